//! Meta-tests on the default pack: every rule documents itself, and every rule has a fixture
//! where it fires and a near-miss fixture where it must stay silent.

mod support;

use std::collections::BTreeMap;

#[test]
fn every_default_rule_has_a_firing_and_a_near_miss_fixture() {
    let mut firing: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut silent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for case in support::default_cases().cases {
        for rule in case.fires {
            firing.entry(rule).or_default().push(case.name.clone());
        }
        for rule in case.silent {
            silent.entry(rule).or_default().push(case.name.clone());
        }
    }
    let rules: Vec<String> = support::default_rules().rules().map(|r| r.id).collect();
    let mut gaps = Vec::new();
    for id in &rules {
        if !firing.contains_key(id) {
            gaps.push(format!(
                "{id}: no case of rules/tests/*.test.yaml lists it under `fires`"
            ));
        }
        if !silent.contains_key(id) {
            gaps.push(format!(
                "{id}: no near-miss fixture lists it under `silent`"
            ));
        }
    }
    for id in firing.keys().chain(silent.keys()) {
        if !rules.contains(id) {
            gaps.push(format!(
                "a test case names `{id}`, which is not a default rule"
            ));
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

#[test]
fn every_default_rule_documents_itself() {
    let mut gaps = Vec::new();
    for rule in support::default_rules().rules() {
        let id = &rule.id;
        if rule.description.as_deref().is_none_or(str::is_empty) {
            gaps.push(format!("{id}: no description"));
        }
        if rule.rationale.as_deref().is_none_or(str::is_empty) {
            gaps.push(format!("{id}: no rationale"));
        }
        if rule.remediation.is_empty() {
            gaps.push(format!("{id}: no remediation"));
        }
        if rule.references.is_empty() {
            gaps.push(format!("{id}: no references"));
        }
        for reference in &rule.references {
            if !reference.starts_with("https://") {
                gaps.push(format!("{id}: reference `{reference}` is not an https URL"));
            }
        }
    }
    assert!(gaps.is_empty(), "{}", gaps.join("\n"));
}

#[test]
fn default_pack_cites_both_support_articles() {
    for article in ["15197235844119", "15373441901207"] {
        assert!(
            balance_doctor::DEFAULT_RULES.contains(article),
            "the default pack never cites support article {article}"
        );
    }
}
