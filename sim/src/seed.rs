//! Seeding: one named generator per replication, derived from the run's seed.
//!
//! A run is reproducible bit for bit only if each replication's random stream depends on
//! nothing but `(seed, replication index)`: not on which thread ran it, nor on how many
//! replications ran before it on that thread. So each replication gets its own generator,
//! seeded by mixing the two numbers through SplitMix64 (the seeding function the xoshiro
//! authors recommend), and the generator is named, Xoshiro256++, rather than `SmallRng`,
//! whose algorithm may change between rand releases.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// The generator every replication uses.
pub type ReplicationRng = Xoshiro256PlusPlus;

/// The generator for replication `replication` of a run seeded with `seed`.
///
/// Streams for different replications are independent for practical purposes; the same pair
/// always gives the same stream.
///
/// ```
/// use rand::RngExt;
/// let mut a = chanlab_sim::seed::replication_rng(42, 7);
/// let mut b = chanlab_sim::seed::replication_rng(42, 7);
/// assert_eq!(a.random::<u64>(), b.random::<u64>());
/// ```
pub fn replication_rng(seed: u64, replication: u64) -> ReplicationRng {
    let mixed = splitmix64(splitmix64(seed) ^ replication.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    Xoshiro256PlusPlus::seed_from_u64(mixed)
}

/// One step of SplitMix64 (Steele, Lea & Flood 2014): a bijective 64-bit mixer.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn first_draws(seed: u64, replication: u64) -> Vec<u64> {
        let mut rng = replication_rng(seed, replication);
        (0..8).map(|_| rng.random()).collect()
    }

    #[test]
    fn the_same_seed_and_replication_give_the_same_stream() {
        assert_eq!(first_draws(2026, 3), first_draws(2026, 3));
    }

    #[test]
    fn replications_and_seeds_get_different_streams() {
        let base = first_draws(2026, 0);
        assert_ne!(base, first_draws(2026, 1));
        assert_ne!(base, first_draws(2027, 0));
        // Seed and index must not be interchangeable.
        assert_ne!(first_draws(1, 2), first_draws(2, 1));
    }

    #[test]
    fn the_stream_does_not_change_between_releases() {
        // A golden value: if a dependency update changes the generator or its seeding, every
        // stored result stops being reproducible, and this test says so first.
        // Recorded from chanlab 0.1.0 with rand 0.10 and rand_xoshiro 0.8.
        assert_eq!(
            splitmix64(0),
            0xE220_A839_7B1D_CDAF,
            "SplitMix64 reference value"
        );
        let first: u64 = replication_rng(0, 0).random();
        assert_eq!(first, 4_526_510_421_850_589_242);
    }
}
