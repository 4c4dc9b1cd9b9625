//! The floor of the one-trace job without `mmap`: the least code that prints the lines holding
//! one id, reading each file with `read()` in blocks (one thread per file, as taskwire scans
//! its inputs) and searching each block with `memmem`. No parsing, no line limit, no gzip, no
//! record model: what is left is the kernel's copy of the files into the buffer and the search.
//! The `explorer` bench runs it as its own process (its binary re-run with
//! [`ENV`] set), paired with `rg -F ID` and `taskwire tree --trace ID` in each round.

use std::io::{Read as _, Write as _};

/// Set to the id to search: the bench binary runs the floor instead of the bench, on the
/// files given as arguments, and exits.
pub(crate) const ENV: &str = "TASKWIRE_FLOOR_ID";

/// The size of a read (`TASKWIRE_FLOOR_BLOCK_KB`; default 256 KiB, a block that is still in the
/// cache when it is searched).
fn block() -> usize {
    std::env::var("TASKWIRE_FLOOR_BLOCK_KB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(256 << 10, |kb| kb << 10)
}

/// When [`ENV`] is set, runs the floor over the program's arguments and exits.
pub(crate) fn run_if_asked() {
    let Ok(id) = std::env::var(ENV) else {
        return;
    };
    let files: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let finder = memchr::memmem::Finder::new(id.as_bytes());
    let block = block();
    let found: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let workers: Vec<_> = files
            .iter()
            .map(|path| {
                let finder = &finder;
                scope.spawn(move || lines_with(path, finder, block))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("a floor thread"))
            .collect()
    });
    let mut out = std::io::stdout().lock();
    for lines in found {
        out.write_all(&lines).expect("stdout");
    }
    std::process::exit(0);
}

/// The lines of the file at `path` that contain the finder's needle, each with its newline.
fn lines_with(path: &str, finder: &memchr::memmem::Finder<'_>, block: usize) -> Vec<u8> {
    let mut file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut buf = vec![0u8; block];
    let mut found = Vec::new();
    // bytes in `buf`: the start of a line not yet ended, then what was just read
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(2 * len, 0);
        }
        let n = file.read(&mut buf[len..]).expect("a read");
        if n == 0 {
            break;
        }
        len += n;
        let whole = memchr::memrchr(b'\n', &buf[..len]).map_or(0, |i| i + 1);
        let mut at = 0;
        while let Some(hit) = finder.find(&buf[at..whole]).map(|i| at + i) {
            let start = memchr::memrchr(b'\n', &buf[..hit]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &buf[hit..whole]).map_or(whole, |i| hit + i + 1);
            found.extend_from_slice(&buf[start..end]);
            at = end;
        }
        buf.copy_within(whole..len, 0);
        len -= whole;
    }
    if finder.find(&buf[..len]).is_some() {
        found.extend_from_slice(&buf[..len]);
        found.push(b'\n');
    }
    found
}
