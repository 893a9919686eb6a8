//! Checking skills and stages (R-SK1, R-SK2): what agents hold and what conversations require.
//! Each check runs before anything changes.

use crate::command::Stage;
use crate::config::Config;
use crate::error::Error;
use crate::ids::{AgentId, ConversationId, SkillId, SkillLevel};
use crate::keys::GroupKey;
use crate::store::State;

impl State {
    /// Checks an agent's skills: declared, levels 1..=10, each once. O(s log s).
    pub(crate) fn check_skills(&self, agent: &AgentId, skills: &[SkillLevel]) -> Result<(), Error> {
        for (i, s) in skills.iter().enumerate() {
            self.check_level(s)?;
            if skills[..i].iter().any(|o| o.skill == s.skill) {
                return Err(Error::DuplicateSkill {
                    agent: agent.clone(),
                    skill: s.skill.clone(),
                });
            }
        }
        Ok(())
    }

    /// Checks an arrival's stages (R-SK2) and returns the groups its first stage adds, by key.
    /// O(stages · (r² + groups)).
    pub(crate) fn check_stages(
        &self,
        conversation: &ConversationId,
        stages: &[Stage],
    ) -> Result<Vec<GroupKey>, Error> {
        let invalid = |stage: usize, problem: &str| Error::InvalidStages {
            conversation: conversation.clone(),
            stage,
            problem: problem.into(),
        };
        if stages.is_empty() {
            return Err(invalid(
                0,
                "the list of stages is empty; leave it out to require nothing",
            ));
        }
        let last = stages.len() - 1;
        let mut first_groups = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            match (i == last, stage.for_ms) {
                (false, None) => {
                    return Err(invalid(
                        i,
                        "needs a duration (for_ms): every stage but the last relaxes after one",
                    ));
                }
                (false, Some(0)) => {
                    return Err(invalid(i, "lasts 0 ms; a stage lasts at least 1 ms"));
                }
                (true, Some(_)) => {
                    return Err(invalid(
                        i,
                        "is the last stage, which applies until the conversation is served: it takes no duration",
                    ));
                }
                _ => {}
            }
            for (list, name) in [(&stage.require, "required"), (&stage.prefer, "preferred")] {
                for (j, s) in list.iter().enumerate() {
                    self.check_level(s)?;
                    if list[..j].iter().any(|o| o.skill == s.skill) {
                        return Err(invalid(
                            i,
                            &format!("names {name} skill `{}` twice", s.skill),
                        ));
                    }
                }
            }
            for id in &stage.groups {
                let g = self.group_key(id)?;
                if i == 0 && !first_groups.contains(&g) {
                    first_groups.push(g);
                }
            }
        }
        Ok(first_groups)
    }

    /// A skill is declared and its level lies in 1..=10.
    fn check_level(&self, s: &SkillLevel) -> Result<(), Error> {
        if self.skills.key(&s.skill).is_none() {
            return Err(Error::UnknownSkill {
                skill: s.skill.clone(),
            });
        }
        if !(SkillLevel::MIN..=SkillLevel::MAX).contains(&s.level) {
            return Err(Error::InvalidLevel {
                skill: s.skill.clone(),
                level: s.level,
            });
        }
        Ok(())
    }

    /// A new config keeps every skill an agent holds or an open conversation's stages name
    /// ([`Error::SkillInUse`]). O(agents · s + open conversations · stages · r) when a skill
    /// goes.
    pub(crate) fn check_skills_kept(&self, config: &Config) -> Result<(), Error> {
        let gone: Vec<&SkillId> = self
            .config
            .skills
            .iter()
            .filter(|s| !config.skills.contains(s))
            .collect();
        for skill in gone {
            let agents = self
                .agents
                .values()
                .filter(|a| a.skills.iter().any(|s| s.skill == *skill))
                .count();
            let conversations = self
                .conversations
                .values()
                .filter(|c| c.phase.is_open())
                .filter(|c| {
                    c.stages().iter().any(|stage| {
                        stage
                            .require
                            .iter()
                            .chain(&stage.prefer)
                            .any(|s| s.skill == *skill)
                    })
                })
                .count();
            if agents + conversations > 0 {
                return Err(Error::SkillInUse {
                    skill: skill.clone(),
                    agents: agents as u64,
                    conversations: conversations as u64,
                });
            }
        }
        Ok(())
    }
}
