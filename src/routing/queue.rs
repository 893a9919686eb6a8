//! The waiting queue's order: priority with optional aging, then arrival (R-Q1); a queue in
//! its live and stalled parts; and a group's waiting work, whole and per kind (R-K5).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Config, MAX_AGING_STEP_SECS, PoolOrder, ReceptionMode};
use crate::keys::{ConvKey, KindKey};

/// A waiting conversation's place in every queue it waits in; the smallest is served first.
///
/// Without aging `rank` is `-priority`. With aging of one level per `step`, a conversation's
/// effective priority at time `t` is `priority + (t - arrived) / step`, and comparing two of
/// them at the same `t` reduces to comparing `arrived - priority * step`, which does not depend
/// on `t`: the order never changes while they wait, so aging needs no re-sorting. Ties go to
/// the earlier arrival (`seq`, the arrival sequence number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct QueueKey {
    /// `arrived - priority * step` in milliseconds is exact in 64 bits: chrono's dates lie
    /// within ±2⁵³ ms and the step is at most 366 days (see [`Config::validate`]).
    pub rank: i64,
    /// The arrival sequence number.
    pub seq: u64,
    pub conv: ConvKey,
}

impl QueueKey {
    /// The key of a waiting conversation under `config`: the queue's order in real-time mode,
    /// the pool's order in asynchronous mode.
    pub(crate) fn new(
        priority: u8,
        arrived: DateTime<Utc>,
        seq: u64,
        conv: ConvKey,
        config: &Config,
    ) -> Self {
        let rank = match config.mode {
            ReceptionMode::RealTime => queue_rank(priority, arrived, config.queue.aging_step_secs),
            ReceptionMode::Asynchronous => match config.pool_order {
                PoolOrder::OldestFirst => 0,
                PoolOrder::NewestFirst => i64::try_from(seq).map_or(i64::MIN, |s| -s),
                PoolOrder::PriorityThenOldest => -i64::from(priority),
            },
        };
        QueueKey { rank, seq, conv }
    }
}

fn queue_rank(priority: u8, arrived: DateTime<Utc>, aging_step_secs: Option<u64>) -> i64 {
    match aging_step_secs {
        None => -i64::from(priority),
        Some(step) => {
            let step_ms = i64::try_from(step.min(MAX_AGING_STEP_SECS)).map_or(0, |s| s * 1000);
            arrived.timestamp_millis() - i64::from(priority) * step_ms
        }
    }
}

/// Waiting work in two parts, each in [`QueueKey`] order. The live part is what agents take
/// from: drains and routing look only at it. The stalled part holds conversations past the
/// redirect limit (R-R2), which wait for an admin: they stay out of the drains' way, so a freed
/// agent finds the best live conversation in O(log n) however many are stalled, and are listed
/// after the live ones.
#[derive(Clone, Debug, Default)]
pub(crate) struct Queue {
    live: BTreeSet<QueueKey>,
    stalled: BTreeSet<QueueKey>,
}

impl Queue {
    /// Files a conversation in the live or the stalled part. O(log n).
    pub(crate) fn insert(&mut self, key: QueueKey, stalled: bool) {
        if stalled {
            self.stalled.insert(key);
        } else {
            self.live.insert(key);
        }
    }

    /// Takes a conversation out of whichever part holds it. O(log n).
    pub(crate) fn remove(&mut self, key: &QueueKey) {
        if !self.live.remove(key) {
            self.stalled.remove(key);
        }
    }

    /// Everything waiting, stalled included.
    pub(crate) fn len(&self) -> usize {
        self.live.len() + self.stalled.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.live.is_empty() && self.stalled.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.live.clear();
        self.stalled.clear();
    }

    /// The live part, best first: what agents may take. Lazy: O(log n) to start, O(1) per item.
    pub(crate) fn live(&self) -> impl Iterator<Item = &QueueKey> + '_ {
        self.live.iter()
    }

    /// The listing: the live part best first, then the stalled part in the same order. Lazy.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &QueueKey> + '_ {
        self.live.iter().chain(self.stalled.iter())
    }

    /// The 0-based rank of `key` in the listing, or `None` when it is not there.
    /// O(log n + min(ahead, behind)) within its part.
    pub(crate) fn rank(&self, key: &QueueKey) -> Option<usize> {
        rank(&self.live, key).or_else(|| Some(self.live.len() + rank(&self.stalled, key)?))
    }
}

/// Waiting work, whole (the listing: positions, lengths, announcements) and per kind of work
/// (what a freed agent looks at: the heads of the kinds it fits, R-K5). With one kind the whole
/// queue is that kind's, so nothing is kept twice and a conversation costs one insertion, as
/// before kinds. A group's waiting work also keeps apart, per kind, the conversations that are
/// another group's work (overflowed or designated into it): an agent at this group's cap
/// (R-K3) may still take those, and finds them without stepping over the group's own.
///
/// Filing or unfiling a conversation costs O(log n) per queue it enters: two with several
/// kinds, one more for another group's work.
#[derive(Clone, Debug, Default)]
pub(crate) struct Waiting {
    all: Queue,
    /// Per kind; empty when there is one kind (then `all` is it).
    by_kind: Vec<Queue>,
    /// Per kind: the conversations of another group's work.
    foreign: Vec<Queue>,
}

/// An empty queue, for a kind the waiting work was not sized for.
static EMPTY: Queue = Queue {
    live: BTreeSet::new(),
    stalled: BTreeSet::new(),
};

impl Waiting {
    /// Empties it and sizes it for `kinds` kinds. `split`: keep the per-kind queues even with
    /// one kind, for a group's listing whose work with requirements is indexed elsewhere (its
    /// routing keys, R-SK4), so that the per-kind queues hold only the work that requires
    /// nothing.
    pub(crate) fn reset(&mut self, kinds: usize, split: bool) {
        self.all.clear();
        self.by_kind.iter_mut().for_each(Queue::clear);
        self.by_kind
            .resize_with(if kinds > 1 || split { kinds } else { 0 }, Queue::default);
        self.foreign.iter_mut().for_each(Queue::clear);
        self.foreign.resize_with(kinds, Queue::default);
    }

    /// Files a conversation of kind `k`, in the live or stalled part; `foreign`: another
    /// group's work; `indexed`: also in the per-kind queues drains read (else it is listed
    /// only). O(log n) per queue.
    pub(crate) fn insert(
        &mut self,
        key: QueueKey,
        k: KindKey,
        stalled: bool,
        foreign: bool,
        indexed: bool,
    ) {
        self.all.insert(key, stalled);
        if !indexed {
            return;
        }
        if let Some(queue) = self.by_kind.get_mut(k) {
            queue.insert(key, stalled);
        }
        if foreign && let Some(queue) = self.foreign.get_mut(k) {
            queue.insert(key, stalled);
        }
    }

    /// Takes out a conversation filed by [`Waiting::insert`] with the same kind, `foreign`
    /// and `indexed`. O(log n) per queue.
    pub(crate) fn remove(&mut self, key: &QueueKey, k: KindKey, foreign: bool, indexed: bool) {
        self.all.remove(key);
        if !indexed {
            return;
        }
        if let Some(queue) = self.by_kind.get_mut(k) {
            queue.remove(key);
        }
        if foreign && let Some(queue) = self.foreign.get_mut(k) {
            queue.remove(key);
        }
    }

    /// Everything waiting, stalled included.
    pub(crate) fn len(&self) -> usize {
        self.all.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The listing, all kinds: live best first, then stalled. Lazy.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &QueueKey> + '_ {
        self.all.iter()
    }

    /// The 0-based rank of `key` in the listing. O(log n + min(ahead, behind)).
    pub(crate) fn rank(&self, key: &QueueKey) -> Option<usize> {
        self.all.rank(key)
    }

    /// The conversations of kind `k`, as a queue of their own.
    pub(crate) fn of_kind(&self, k: KindKey) -> &Queue {
        if self.by_kind.is_empty() {
            &self.all
        } else {
            self.by_kind.get(k).unwrap_or(&EMPTY)
        }
    }

    /// The conversations of kind `k` that are another group's work.
    pub(crate) fn foreign(&self, k: KindKey) -> &Queue {
        self.foreign.get(k).unwrap_or(&EMPTY)
    }
}

/// The 0-based rank of `key` in `queue`, or `None` when it is not there. Walks inward from both
/// ends at once, so it costs O(min(ahead, behind)): O(1) for the usual arrival at the back or
/// a high-priority one near the front.
fn rank(queue: &BTreeSet<QueueKey>, key: &QueueKey) -> Option<usize> {
    if !queue.contains(key) {
        return None;
    }
    let mut ahead = queue.range(..*key);
    let mut behind = queue.range(*key..).skip(1);
    let mut steps = 0;
    loop {
        if ahead.next().is_none() {
            return Some(steps);
        }
        if behind.next().is_none() {
            return Some(queue.len() - 1 - steps);
        }
        steps += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_matches_a_linear_count_from_either_end() {
        let queue: BTreeSet<QueueKey> = (0..9)
            .map(|c| QueueKey {
                rank: 0,
                seq: c,
                conv: c,
            })
            .collect();
        for (i, key) in queue.iter().enumerate() {
            assert_eq!(rank(&queue, key), Some(i));
        }
        assert_eq!(
            rank(
                &queue,
                &QueueKey {
                    rank: 0,
                    seq: 99,
                    conv: 99
                }
            ),
            None
        );
    }

    #[test]
    fn stalled_conversations_are_listed_after_the_live_ones() {
        let key = |seq| QueueKey {
            rank: 0,
            seq,
            conv: seq,
        };
        let mut queue = Queue::default();
        queue.insert(key(1), true);
        queue.insert(key(2), false);
        queue.insert(key(3), true);
        queue.insert(key(4), false);
        let listed: Vec<u64> = queue.iter().map(|k| k.seq).collect();
        assert_eq!(listed, [2, 4, 1, 3]);
        let live: Vec<u64> = queue.live().map(|k| k.seq).collect();
        assert_eq!(live, [2, 4]);
        assert_eq!(queue.rank(&key(1)), Some(2));
        assert_eq!(queue.rank(&key(4)), Some(1));
        assert_eq!(queue.rank(&key(9)), None);
        queue.remove(&key(1));
        queue.remove(&key(2));
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.rank(&key(3)), Some(1));
    }

    #[test]
    fn aging_key_ranks_an_old_low_priority_conversation_with_a_new_high_one() {
        let t0 = DateTime::<Utc>::from_timestamp(1_000_000, 0).expect("valid");
        let mut config = Config::default();
        config.queue.aging_step_secs = Some(60);
        let old = QueueKey::new(0, t0, 1, 1, &config);
        let later = t0 + chrono::TimeDelta::seconds(61);
        let fresh_high = QueueKey::new(1, later, 2, 2, &config);
        assert!(old < fresh_high, "61 s of waiting outweighs one level");
        let fresh_higher = QueueKey::new(2, later, 3, 3, &config);
        assert!(fresh_higher < old);
    }
}
