//! A small deterministic generator for the property tests.

/// A small deterministic generator, so one proptest seed builds a whole
/// definition whose parts stay consistent with each other.
pub struct Pick(pub u64);

impl Pick {
    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn coin(&mut self) -> bool {
        self.below(2) == 0
    }
    pub fn maybe<T>(&mut self, f: impl FnOnce(&mut Pick) -> T) -> Option<T> {
        if self.coin() { Some(f(self)) } else { None }
    }
    pub fn of<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
