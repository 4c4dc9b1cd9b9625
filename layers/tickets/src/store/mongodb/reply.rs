//! Reading the server's replies to bulk commands.

use mongodb::bson::{Bson, Document};

use super::documents::i64_of;
use super::errors::Invalid;
use super::DUPLICATE_KEY;

/// What happened to one operation of a bulk update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Matched (and applied).
    Done,
    /// Inserted.
    Upserted,
    /// Its filter did not match and its insert hit a unique index, or (not upserting) it
    /// matched nothing.
    Conflict,
}

/// Reads an `update` command's reply: per op, what happened.
///
/// Upserting ops report themselves (in `upserted` or as a duplicate key error). Ops that do not
/// upsert only show in the total `n`: when it falls short, all of them are reported as
/// conflicts (and redone conditionally, which is safe since every op carries its token).
pub(super) fn outcomes(reply: &Document, n: usize) -> mongodb::error::Result<Vec<Outcome>> {
    let mut out = vec![Outcome::Done; n];
    if let Ok(wce) = reply.get_document("writeConcernError") {
        return Err(mongodb::error::Error::custom(Invalid(format!(
            "write concern error: {wce}"
        ))));
    }
    let mut errors = 0;
    if let Ok(errs) = reply.get_array("writeErrors") {
        for e in errs.iter().filter_map(Bson::as_document) {
            let index = i64_of(e, "index").unwrap_or(-1);
            let code = i64_of(e, "code").unwrap_or(0);
            if code != i64::from(DUPLICATE_KEY) || index < 0 || index as usize >= n {
                return Err(mongodb::error::Error::custom(Invalid(format!(
                    "write error: {e}"
                ))));
            }
            out[index as usize] = Outcome::Conflict;
            errors += 1;
        }
    }
    if let Ok(ups) = reply.get_array("upserted") {
        for u in ups.iter().filter_map(Bson::as_document) {
            if let Some(i) = i64_of(u, "index").filter(|i| *i >= 0 && (*i as usize) < n) {
                out[i as usize] = Outcome::Upserted;
            }
        }
    }
    let matched = i64_of(reply, "n").unwrap_or(0);
    if matched < (n - errors) as i64 {
        // Some op that does not upsert matched nothing; which one is not said.
        for o in out.iter_mut().filter(|o| **o == Outcome::Done) {
            *o = Outcome::Conflict;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::doc;

    #[test]
    fn outcomes_of_a_reply() {
        let reply = doc! {
            "n": 2,
            "upserted": [{"index": 0, "_id": 5}],
            "writeErrors": [{"index": 2, "code": 11000, "errmsg": "dup"}],
            "ok": 1.0,
        };
        assert_eq!(
            outcomes(&reply, 3).unwrap(),
            [Outcome::Upserted, Outcome::Done, Outcome::Conflict]
        );
        let short = doc! {"n": 1, "ok": 1.0};
        assert_eq!(
            outcomes(&short, 2).unwrap(),
            [Outcome::Conflict, Outcome::Conflict]
        );
    }
}
