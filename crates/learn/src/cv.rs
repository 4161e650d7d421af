//! k-fold cross-validation splits.

use crate::error::{LearnError, Result};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// One split: indices of the training rows and of the held-out rows.
#[derive(Debug, Clone)]
pub struct Fold {
    /// Rows to fit on.
    pub train: Vec<usize>,
    /// Rows to evaluate on.
    pub test: Vec<usize>,
}

/// Shuffles `0..n` with `seed` and cuts it into `k` folds of sizes differing by at most one.
/// Every index is held out exactly once.
pub fn kfold(n: usize, k: usize, seed: u64) -> Result<Vec<Fold>> {
    if k < 2 {
        return Err(LearnError::Param(format!("k-fold needs k >= 2, got {k}")));
    }
    if n < k {
        return Err(LearnError::NotEnoughData(format!(
            "{n} samples for {k} folds"
        )));
    }
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut StdRng::seed_from_u64(seed));
    Ok(split(&perm, k))
}

/// Like [`kfold`] but keeps the class proportions in every fold (each class is shuffled and
/// dealt round-robin over the folds).
pub fn stratified_kfold(labels: &[usize], k: usize, seed: u64) -> Result<Vec<Fold>> {
    if k < 2 {
        return Err(LearnError::Param(format!("k-fold needs k >= 2, got {k}")));
    }
    if labels.len() < k {
        return Err(LearnError::NotEnoughData(format!(
            "{} samples for {k} folds",
            labels.len()
        )));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let n_classes = labels.iter().max().map_or(0, |m| m + 1);
    let mut order = Vec::with_capacity(labels.len());
    for c in 0..n_classes {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
        idx.shuffle(&mut rng);
        order.extend(idx);
    }
    // Dealing `order` round-robin puts every class evenly into the folds.
    let mut tests = vec![Vec::new(); k];
    for (pos, &i) in order.iter().enumerate() {
        tests[pos % k].push(i);
    }
    Ok(folds_from_tests(labels.len(), tests))
}

fn split(perm: &[usize], k: usize) -> Vec<Fold> {
    let n = perm.len();
    let tests: Vec<Vec<usize>> = (0..k)
        .map(|f| perm[f * n / k..(f + 1) * n / k].to_vec())
        .collect();
    folds_from_tests(n, tests)
}

fn folds_from_tests(n: usize, tests: Vec<Vec<usize>>) -> Vec<Fold> {
    tests
        .into_iter()
        .map(|mut test| {
            test.sort_unstable();
            let mut held = vec![false; n];
            for &i in &test {
                held[i] = true;
            }
            let train = (0..n).filter(|&i| !held[i]).collect();
            Fold { train, test }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_index_is_held_out_once_and_folds_are_balanced() {
        let folds = kfold(103, 5, 7).unwrap();
        let mut seen = vec![0; 103];
        for f in &folds {
            assert!(f.test.len() == 20 || f.test.len() == 21);
            assert_eq!(f.train.len() + f.test.len(), 103);
            for &i in &f.test {
                seen[i] += 1;
                assert!(!f.train.contains(&i));
            }
        }
        assert!(seen.iter().all(|&s| s == 1));
        assert!(kfold(3, 5, 0).is_err() && kfold(10, 1, 0).is_err());
    }

    #[test]
    fn stratified_folds_keep_class_proportions() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i % 10 == 0)).collect();
        for f in stratified_kfold(&labels, 5, 1).unwrap() {
            assert_eq!(f.test.iter().filter(|&&i| labels[i] == 1).count(), 2);
        }
    }
}
