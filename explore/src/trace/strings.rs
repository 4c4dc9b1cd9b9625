//! Interned strings: each distinct name, service or message of the records read is stored once,
//! and tasks and events refer to it by index.

use std::collections::HashMap;
use std::sync::Arc;

/// An interned string: an index into [`Collected::strings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Sym(pub(crate) u32);

/// Strings seen so far, each stored once (shared by the map, for lookups, and the list, for
/// indices).
#[derive(Default)]
pub(crate) struct Interner {
    map: HashMap<Arc<str>, u32, FxBuild>,
    list: Vec<Arc<str>>,
}

impl Interner {
    pub(crate) fn intern(&mut self, s: &str) -> Sym {
        if let Some(&i) = self.map.get(s) {
            return Sym(i);
        }
        let i = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        let s: Arc<str> = s.into();
        self.map.insert(Arc::clone(&s), i);
        self.list.push(s);
        Sym(i)
    }

    pub(crate) fn get(&self, s: Sym) -> &str {
        self.list.get(s.0 as usize).map_or("", |s| s)
    }

    /// A table of its own for the strings `syms` name, each changed to its index there (for
    /// records taken out while the reader goes on).
    pub(crate) fn table_of<'a>(&self, syms: impl Iterator<Item = &'a mut Sym>) -> Vec<Box<str>> {
        let mut table: Vec<Box<str>> = Vec::new();
        let mut new_of: HashMap<Sym, Sym, FxBuild> = HashMap::default();
        for s in syms {
            *s = *new_of.entry(*s).or_insert_with(|| {
                table.push(self.get(*s).into());
                Sym(u32::try_from(table.len() - 1).unwrap_or(u32::MAX))
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
