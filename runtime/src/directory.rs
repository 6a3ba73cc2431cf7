//! The host's directory of people: who holds which roles and skills, and who reports to whom. Completions
//! carry the acting person's roles; the directory adds what the host knows, and answers the module's
//! "manager of" questions.

use std::collections::HashMap;

/// What the host knows about people.
pub trait Directory: Send + Sync {
    /// The person's manager, if known.
    fn manager_of(&self, person: &str) -> Option<String>;

    /// Roles the person holds (added to those an event names).
    fn roles_of(&self, _person: &str) -> Vec<String> {
        Vec::new()
    }

    /// Skills the person has (added to those an event names).
    fn skills_of(&self, _person: &str) -> Vec<String> {
        Vec::new()
    }
}

/// One person in a [`StaticDirectory`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Person {
    /// Roles held.
    pub roles: Vec<String>,
    /// Skills.
    pub skills: Vec<String>,
    /// Their manager's id.
    pub manager: Option<String>,
}

/// A directory kept in memory (tests, `procc run`, small hosts).
///
/// ```
/// use proc_runtime::{Directory, StaticDirectory};
/// let directory = StaticDirectory::default()
///     .with("erin", &["Engineer"], &["networking"], Some("ines"));
/// assert_eq!(directory.manager_of("erin").as_deref(), Some("ines"));
/// assert_eq!(directory.skills_of("erin"), vec!["networking".to_string()]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StaticDirectory {
    people: HashMap<String, Person>,
}

impl StaticDirectory {
    /// Adds (or replaces) a person.
    pub fn with(
        mut self,
        id: &str,
        roles: &[&str],
        skills: &[&str],
        manager: Option<&str>,
    ) -> Self {
        self.people.insert(
            id.to_string(),
            Person {
                roles: roles.iter().map(|r| (*r).to_string()).collect(),
                skills: skills.iter().map(|s| (*s).to_string()).collect(),
                manager: manager.map(str::to_string),
            },
        );
        self
    }

    /// Sets a person's manager.
    pub fn set_manager(&mut self, person: &str, manager: &str) {
        self.people.entry(person.to_string()).or_default().manager = Some(manager.to_string());
    }

    /// A person's entry.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.get(id)
    }
}

impl Directory for StaticDirectory {
    fn manager_of(&self, person: &str) -> Option<String> {
        self.people.get(person).and_then(|p| p.manager.clone())
    }

    fn roles_of(&self, person: &str) -> Vec<String> {
        self.people
            .get(person)
            .map(|p| p.roles.clone())
            .unwrap_or_default()
    }

    fn skills_of(&self, person: &str) -> Vec<String> {
        self.people
            .get(person)
            .map(|p| p.skills.clone())
            .unwrap_or_default()
    }
}
