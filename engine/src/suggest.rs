//! "Did you mean": the known name closest to a misspelt one.

/// Names longer than this get no suggestion: nobody misspells a name that long, and the work
/// stays bounded whatever the input (a 10 MB document name is not compared with anything).
const MAX_NAME_LENGTH: usize = 64;

/// The candidate closest to `name` by edit distance, when it is close enough to be a typo
/// (at most one edit per three characters): the "did you mean" of every message.
///
/// The distance is `strsim`'s optimal string alignment (a swap of two neighbours is one edit,
/// so `itme` is one edit from `item`), computed only for candidates whose length is within
/// the allowed number of edits of the name's.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let length = name.chars().count();
    if length > MAX_NAME_LENGTH {
        return None;
    }
    let limit = (length / 3).max(1);
    candidates
        .iter()
        .filter(|candidate| candidate.chars().count().abs_diff(length) <= limit)
        .map(|candidate| (strsim::osa_distance(name, candidate), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

/// "did you mean `x`?" for the known name closest to `name`, else what `otherwise` says.
pub(crate) fn did_you_mean(
    name: &str,
    candidates: &[&str],
    otherwise: impl FnOnce() -> String,
) -> String {
    match closest(name, candidates) {
        Some(best) => format!("did you mean `{best}`?"),
        None => otherwise(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_long_ones_cost_nothing() {
        assert_eq!(closest("older_then", &["older_than"]), Some("older_than"));
        assert_eq!(closest("itme", &["item"]), Some("item"));
        assert_eq!(
            closest("qantifier", &["quantifier", "count"]),
            Some("quantifier")
        );
        assert_eq!(closest("zzz", &["quantifier", "count"]), None);
        assert_eq!(closest("", &["abc"]), None);
        // A 10 MB name is not compared (the old full matrix took 2.2 GB).
        let long = format!("item_get{}", "x".repeat(10_000_000));
        assert_eq!(closest(&long, &["item_get"]), None);
    }
}
