//! The spool: counts a final flush could not write, kept in local files until a writer on the
//! same store replays them.
//!
//! When the process exits while the store refuses writes (a SQLite lock held by another
//! connection, a MongoDB server that is down) for longer than the writer's shutdown timeout,
//! the writer writes what is left (the failed batch and everything counted since) to one spool
//! file, and the next writer that starts on that store (in any process) replays it.
//!
//! - **Where**: every file of a store starts with the store's [`TicketWriter::spool_path`]
//!   (`tickets.db-taskwire_spool-…` beside a SQLite file; a folder of the `MongoDb` store's
//!   choosing), followed by `-` and 16 hex digits.
//! - **Atomic**: a file is written as `….tmp`, synced, renamed to its final name, and the folder
//!   is synced; a reader only ever sees complete files. Each file ends with a checksum, so a
//!   damaged file is set aside (renamed `….bad`), never half replayed.
//! - **Exactly once**: every batch in a file carries a 64-bit key; the store applies a batch and
//!   records its key in one step ([`TicketWriter::write_once`]), so a replay cut short (a crash, a
//!   `kill -9`, another process replaying the same file at the same time) is completed, never
//!   counted twice. The file is deleted once every batch in it is applied.
//!
//! [`TicketWriter::spool_path`]: crate::store::TicketWriter::spool_path
//! [`TicketWriter::write_once`]: crate::store::TicketWriter::write_once

mod codec;

use std::ffi::OsString;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::store::Batch;

pub(crate) use codec::{decode, encode, DecodeError};

/// One spooled batch and the key that makes its replay exactly once.
pub(crate) type Entry = (u64, Batch);

/// A fresh random 64-bit key (for a spool file's name, or a batch's idempotence key).
pub(crate) fn random_key() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(N.fetch_add(1, Ordering::Relaxed));
    h.write_u32(std::process::id());
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// The folder of `stem` and the file-name prefix every spool file of it starts with.
fn split(stem: &Path) -> Option<(PathBuf, OsString)> {
    let name = stem.file_name()?;
    let dir = match stem.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    let mut prefix = name.to_owned();
    prefix.push("-");
    Some((dir, prefix))
}

/// Writes `entries` to a new spool file of `stem` (creating its folder), durably and
/// atomically. Returns the file's path.
pub(crate) fn write(stem: &Path, entries: &[Entry]) -> io::Result<PathBuf> {
    let (dir, prefix) = split(stem).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a file path", stem.display()),
        )
    })?;
    fs::create_dir_all(&dir)?;
    let bytes = encode(entries);
    let mut name = prefix;
    name.push(format!("{:016x}", random_key()));
    let path = dir.join(&name);
    let mut tmp_name = name;
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    // The rename is durable once the folder is (not possible on every platform; best effort).
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(path)
}

/// The complete spool files of `stem`, oldest first (by modification time, then name).
pub(crate) fn list(stem: &Path) -> io::Result<Vec<PathBuf>> {
    let Some((dir, prefix)) = split(stem) else {
        return Ok(Vec::new());
    };
    let prefix = prefix.to_string_lossy().into_owned();
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found = Vec::new();
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(id) = name.strip_prefix(prefix.as_str()) else {
            continue;
        };
        if id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            found.push((modified, entry.path()));
        }
    }
    found.sort();
    Ok(found.into_iter().map(|(_, p)| p).collect())
}

/// Removes `….tmp` files of `stem` last modified at least `age` ago: spool files whose
/// writing was cut short (the process killed meanwhile); a complete one would have been renamed.
pub(crate) fn remove_stale(stem: &Path, age: std::time::Duration) {
    let Some((dir, prefix)) = split(stem) else {
        return;
    };
    let prefix = prefix.to_string_lossy().into_owned();
    let Ok(rd) = fs::read_dir(&dir) else { return };
    let now = std::time::SystemTime::now();
    for entry in rd.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = name
            .strip_prefix(prefix.as_str())
            .and_then(|id| id.strip_suffix(".tmp"))
            .is_some_and(|id| id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()))
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| now.duration_since(t).is_ok_and(|d| d >= age));
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Why a spool file could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// It is gone (another writer replayed it) or cannot be read.
    Io(io::Error),
    /// It is not a complete spool file of this version.
    Bad(DecodeError),
}

/// Reads and checks one spool file.
pub(crate) fn read(path: &Path) -> Result<Vec<Entry>, ReadError> {
    let bytes = fs::read(path).map_err(ReadError::Io)?;
    decode(&bytes).map_err(ReadError::Bad)
}

/// Removes a replayed file (one already removed by another writer is fine).
pub(crate) fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Sets a damaged file aside (`….bad`), so it is kept for inspection and not read again.
pub(crate) fn set_aside(path: &Path) -> io::Result<PathBuf> {
    let mut name = path.as_os_str().to_owned();
    name.push(".bad");
    let to = PathBuf::from(name);
    fs::rename(path, &to)?;
    Ok(to)
}

/// The occurrences counted in `entries`.
pub(crate) fn events(entries: &[Entry]) -> u64 {
    entries.iter().map(|(_, b)| batch_events(b)).sum()
}

/// The occurrences counted in `batch`.
pub(crate) fn batch_events(batch: &Batch) -> u64 {
    batch.groups.iter().map(|g| g.count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{GroupUpdate, Level, TicketSeed, Timestamp};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tw-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    fn batch(count: u64) -> Batch {
        let t = Timestamp::from_micros(1);
        Batch::new(vec![GroupUpdate::new(
            "f00d",
            TicketSeed::new(Level::ERROR, "app"),
            count,
            t,
            t,
        )])
    }

    #[test]
    fn written_files_are_listed_read_and_removed() {
        let d = dir("list");
        let stem = d.join("tickets.db-taskwire_spool");
        assert!(
            list(&stem).unwrap().is_empty(),
            "a missing folder has no files"
        );
        let a = write(&stem, &[(1, batch(3)), (2, batch(4))]).unwrap();
        let b = write(&stem, &[(3, batch(5))]).unwrap();
        // Neither temporary files nor other stores' files are listed.
        fs::write(
            d.join("tickets.db-taskwire_spool-0123456789abcdef.tmp"),
            b"x",
        )
        .unwrap();
        fs::write(d.join("tickets.db-other_spool-0123456789abcdef"), b"x").unwrap();
        let mut found = list(&stem).unwrap();
        found.sort();
        let mut want = vec![a.clone(), b.clone()];
        want.sort();
        assert_eq!(found, want);
        let entries = read(&a).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(events(&entries), 7);
        remove(&a).unwrap();
        remove(&a).unwrap();
        assert_eq!(list(&stem).unwrap(), vec![b]);
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn only_old_temporary_files_are_removed_as_stale() {
        let d = dir("stale");
        fs::create_dir_all(&d).unwrap();
        let stem = d.join("tickets.db-taskwire_spool");
        let tmp = d.join("tickets.db-taskwire_spool-0123456789abcdef.tmp");
        fs::write(&tmp, b"cut short").unwrap();
        let kept = write(&stem, &[(1, batch(3))]).unwrap();
        remove_stale(&stem, std::time::Duration::from_secs(3600));
        assert!(tmp.exists(), "a recent one may still be being written");
        remove_stale(&stem, std::time::Duration::ZERO);
        assert!(!tmp.exists());
        assert!(kept.exists(), "complete files are never removed as stale");
        let _ = fs::remove_dir_all(&d);
    }

    #[test]
    fn a_damaged_file_is_refused_and_set_aside() {
        let d = dir("bad");
        let stem = d.join("tickets.db-taskwire_spool");
        let a = write(&stem, &[(1, batch(3))]).unwrap();
        let mut bytes = fs::read(&a).unwrap();
        let last = bytes.len() - 9;
        bytes[last] ^= 1;
        fs::write(&a, &bytes).unwrap();
        assert!(matches!(read(&a), Err(ReadError::Bad(_))));
        let bad = set_aside(&a).unwrap();
        assert!(bad.exists());
        assert!(list(&stem).unwrap().is_empty());
        let _ = fs::remove_dir_all(&d);
    }
}
