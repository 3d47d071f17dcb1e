//! "Did you mean": the known name closest to a misspelt one.

/// The candidate closest to `name` by edit distance, when it is close enough to be a typo
/// (at most one edit per three characters): the "did you mean" of every message.
pub fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|candidate| (edit_distance(name, candidate), *candidate))
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

/// Edit distance over chars where swapping two neighbours counts as one edit (optimal string
/// alignment), so that `itme` is one edit from `item`.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("older_than", "older_then"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("itme", "item"), 1);
        assert_eq!(
            closest("qantifier", &["quantifier", "count"]),
            Some("quantifier")
        );
        assert_eq!(closest("zzz", &["quantifier", "count"]), None);
    }
}
