//! A bounded map with expiry, used for tokens, challenges and per-realm facts.
//!
//! Time is a value passed in (milliseconds since the epoch), never read here, so tests drive it
//! with a fake clock. The bound keeps a long-running edge function that sees thousands of images
//! from growing without limit: when full, expired entries go first, then the least recently used
//! eighth, so eviction costs a few O(n) passes once per n/8 inserts rather than a scan per insert.
//!
//! A vector kept sorted by key rather than a map: found by binary search, it is a third of the
//! code of `HashMap` (hashbrown plus SipHash, ~2.5 KB of wasm) and a ninth of `BTreeMap`'s, and
//! no key a caller chooses can make lookups slow (a fixed-key hash could be aimed at one
//! bucket: std cannot seed one randomly on wasm32-unknown-unknown). An insert shifts the entries
//! after it, at most the capacity (1,024 tokens, ~100 KB): microseconds, once per token fetched
//! over the network.

#[derive(Clone, Debug)]
struct Entry<V> {
    value: V,
    expires_at: u64,
    last_used: u64,
}

#[derive(Clone, Debug)]
pub struct Bounded<V> {
    /// Sorted by key, keys unique.
    entries: Vec<(String, Entry<V>)>,
    capacity: usize,
    /// A use counter rather than the clock, so recency is exact even within one millisecond.
    tick: u64,
    /// Counts every entry that left or was replaced (expiry, eviction, removal, clearing), so a
    /// copy kept outside (the JS fast path) knows when it may no longer agree with this map.
    removals: u64,
}

impl<V> Bounded<V> {
    pub fn new(capacity: usize) -> Bounded<V> {
        Bounded { entries: Vec::new(), capacity: capacity.max(1), tick: 0, removals: 0 }
    }

    /// Where `key` is, or where it would go.
    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// The value if present and not expired at `now` (an expired one is dropped).
    pub fn get(&mut self, key: &str, now: u64) -> Option<&V> {
        let at = self.find(key).ok()?;
        if self.entries.get(at)?.1.expires_at <= now {
            self.remove_at(at);
            return None;
        }
        self.tick += 1;
        let tick = self.tick;
        let (_, entry) = self.entries.get_mut(at)?;
        entry.last_used = tick;
        Some(&entry.value)
    }

    pub fn insert(&mut self, key: String, value: V, expires_at: u64, now: u64) {
        self.tick += 1;
        let entry = Entry { value, expires_at, last_used: self.tick };
        match self.find(&key) {
            Ok(at) => {
                if let Some(slot) = self.entries.get_mut(at) {
                    slot.1 = entry;
                    self.removals += 1;
                }
            }
            Err(mut at) => {
                if self.entries.len() >= self.capacity {
                    self.evict(now);
                    at = self.find(&key).unwrap_or_else(|i| i);
                }
                self.entries.insert(at, (key, entry));
            }
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Ok(at) = self.find(key) {
            self.remove_at(at);
        }
    }

    fn remove_at(&mut self, at: usize) {
        if at < self.entries.len() {
            self.entries.remove(at);
            self.removals += 1;
        }
    }

    pub fn clear(&mut self) {
        self.removals += self.entries.len() as u64;
        self.entries.clear();
    }

    /// When the entry stops being served, without touching its recency.
    pub fn expiry(&self, key: &str) -> Option<u64> {
        let at = self.find(key).ok()?;
        self.entries.get(at).map(|(_, e)| e.expires_at)
    }

    pub fn removals(&self) -> u64 {
        self.removals
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    fn evict(&mut self, now: u64) {
        let before = self.entries.len();
        self.entries.retain(|(_, e)| e.expires_at > now);
        if self.entries.len() < self.capacity {
            self.removals += (before - self.entries.len()) as u64;
            return;
        }
        // Drop exactly the least recently used eighth. The ticks are distinct, so the cutoff is
        // the `drop`-th smallest of them; a binary search over the tick range finds it in at
        // most 64 counting passes, with no sort linked into the wasm.
        let drop = (self.capacity / 8).max(1);
        let (mut lo, mut hi) = (0u64, self.tick);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.entries.iter().filter(|(_, e)| e.last_used <= mid).count() >= drop {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        let cutoff = lo;
        self.entries.retain(|(_, e)| e.last_used > cutoff);
        self.removals += (before - self.entries.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_and_recency() {
        let mut c = Bounded::new(16);
        c.insert("a".into(), 1, 100, 0);
        assert_eq!(c.get("a", 99), Some(&1));
        assert_eq!(c.get("a", 100), None);
        assert!(c.is_empty());
    }

    #[test]
    fn stays_bounded_and_keeps_recent() {
        let mut c = Bounded::new(64);
        c.insert("keep".into(), 0, u64::MAX, 0);
        for i in 0..10_000u64 {
            c.insert(format!("k{i}"), i, u64::MAX, i);
            assert!(c.get("keep", i).is_some(), "recently used entry evicted at {i}");
            assert!(c.len() <= 64);
        }
    }

    #[test]
    fn evicts_exactly_the_oldest_eighth_even_with_many_reads() {
        let mut c = Bounded::new(64);
        for i in 0..64u64 {
            c.insert(format!("k{i}"), i, u64::MAX, 0);
        }
        // Reads advance the clock a lot; they must not make eviction drop more than an eighth.
        for _ in 0..50 {
            for i in 8..64u64 {
                assert!(c.get(&format!("k{i}"), 0).is_some());
            }
        }
        c.insert("new".into(), 99, u64::MAX, 0);
        assert_eq!(c.len(), 64 - 8 + 1);
        for i in 0..8u64 {
            assert!(c.get(&format!("k{i}"), 0).is_none(), "k{i} was the least recently used");
        }
        for i in 8..64u64 {
            assert!(c.get(&format!("k{i}"), 0).is_some(), "k{i} was used recently");
        }
    }

    #[test]
    fn removals_count_every_departure() {
        let mut c = Bounded::new(2);
        c.insert("a".into(), 1, 100, 0);
        c.insert("b".into(), 2, 100, 0);
        assert_eq!(c.removals(), 0);
        assert_eq!(c.expiry("a"), Some(100));
        c.insert("a".into(), 3, 100, 0);
        assert_eq!(c.removals(), 1, "replaced");
        c.insert("c".into(), 4, 100, 0);
        assert_eq!(c.removals(), 2, "evicted");
        assert!(c.get("c", 100).is_none());
        assert_eq!(c.removals(), 3, "expired");
        c.remove("nothing");
        assert_eq!(c.removals(), 3);
        c.clear();
        assert_eq!(c.removals(), 4, "cleared");
    }

    #[test]
    fn expired_go_first() {
        let mut c = Bounded::new(4);
        for i in 0..4u64 {
            c.insert(format!("old{i}"), i, 10, 0);
        }
        c.insert("new".into(), 9, 1000, 20);
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("new", 21), Some(&9));
    }
}
