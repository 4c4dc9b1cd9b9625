//! Interned strings: each distinct name, service or message of the records read is stored once,
//! and tasks and events refer to it by index.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

/// An interned string: an index into [`Collected::strings`], stored plus one so that an
/// `Option<Sym>` takes four bytes (a task record holds four of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Sym(NonZeroU32);

impl Sym {
    /// The string at `index` (an index past `u32::MAX - 1` names the last one).
    pub(crate) fn at(index: usize) -> Sym {
        let stored = u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(1));
        Sym(NonZeroU32::new(stored).unwrap_or(NonZeroU32::MIN))
    }

    /// Its index into the strings.
    pub(crate) fn index(self) -> usize {
        self.0.get() as usize - 1
    }
}

/// Strings seen so far, each stored once (shared by the map, for lookups, and the list, for
/// indices).
#[derive(Default)]
pub(crate) struct Interner {
    map: HashMap<Arc<str>, Sym, FxBuild>,
    list: Vec<Arc<str>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> Sym {
        if let Some(&sym) = self.map.get(s) {
            return sym;
        }
        let sym = Sym::at(self.list.len());
        let s: Arc<str> = s.into();
        self.map.insert(Arc::clone(&s), sym);
        self.list.push(s);
        sym
    }

    pub(crate) fn get(&self, s: Sym) -> &str {
        self.list.get(s.index()).map_or("", |s| s)
    }

    /// A table of its own for the strings `syms` name, each changed to its index there (for
    /// records taken out while the reader goes on).
    pub(crate) fn table_of<'a>(&self, syms: impl Iterator<Item = &'a mut Sym>) -> Vec<Box<str>> {
        let mut table: Vec<Box<str>> = Vec::new();
        let mut new_of: HashMap<Sym, Sym, FxBuild> = HashMap::default();
        for s in syms {
            *s = *new_of.entry(*s).or_insert_with(|| {
                table.push(self.get(*s).into());
                Sym::at(table.len() - 1)
            });
        }
        table
    }

    pub(crate) fn into_strings(self) -> Vec<Box<str>> {
        drop(self.map);
        self.list.iter().map(|s| Box::from(&**s)).collect()
    }
}

/// The hasher of the reader's maps: keys are short strings and random ids from local files,
/// so hash-flooding resistance buys nothing here.
pub(crate) type FxBuild = taskwire_core::cache::FastBuild;
