//! "Did you mean …?": the closest known name to a misspelled one.

/// Edit distance between two short strings, counted in characters: insertions, deletions, substitutions and
/// swaps of two neighbouring characters (`stpe` → `step`) each cost one.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut table = vec![0usize; (a.len() + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    for i in 0..=a.len() {
        if let Some(cell) = table.get_mut(at(i, 0)) {
            *cell = i;
        }
    }
    for j in 0..=b.len() {
        if let Some(cell) = table.get_mut(at(0, j)) {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let get = |i: usize, j: usize| table.get(at(i, j)).copied().unwrap_or(usize::MAX / 2);
            let same = a.get(i - 1) == b.get(j - 1);
            let mut best = (get(i - 1, j) + 1)
                .min(get(i, j - 1) + 1)
                .min(get(i - 1, j - 1) + usize::from(!same));
            if i > 1 && j > 1 && a.get(i - 1) == b.get(j - 2) && a.get(i - 2) == b.get(j - 1) {
                best = best.min(get(i - 2, j - 2) + 1);
            }
            if let Some(cell) = table.get_mut(at(i, j)) {
                *cell = best;
            }
        }
    }
    table.get(at(a.len(), b.len())).copied().unwrap_or(0)
}

/// The candidate closest to `name`, if it is close enough to be a likely typo (at most a third of the name's
/// length, and at least one edit; a difference in case only counts nothing). A name written in the other style
/// (`UkWorkingDays` for `working_days`: types, roles and calendars are capitalised, procedures and fields are
/// not) costs two edits more.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    let lower = name.to_lowercase();
    let capital = |text: &str| text.chars().next().is_some_and(char::is_uppercase);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .filter_map(|candidate| {
            let distance = if candidate.to_lowercase() == lower {
                0
            } else {
                edit_distance(&lower, &candidate.to_lowercase())
                    + if capital(candidate) == capital(name) {
                        0
                    } else {
                        2
                    }
            };
            (distance <= limit).then_some((distance, candidate))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(edit_distance("Supervsor", "Supervisor"), 1);
        assert_eq!(edit_distance("stpe", "step"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_picks_a_near_name() {
        let names = ["Agent", "Supervisor", "Manager"];
        assert_eq!(closest("Supervsor", names), Some("Supervisor"));
        assert_eq!(closest("agent", names), Some("Agent"));
        assert_eq!(closest("Customer", names), None);
    }

    #[test]
    fn a_name_in_the_other_style_is_rarely_meant() {
        let names = ["working_days", "EnglandWorkingDays"];
        assert_eq!(closest("UkWorkingDays", names), None);
        assert_eq!(closest("workingdays", names), Some("working_days"));
    }
}
