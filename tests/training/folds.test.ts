// Stratified folds as scikit-learn's StratifiedKFold(n_splits, shuffle=False) assigns them.
import { describe, expect, it } from 'vitest';
import { stratifiedKFold } from '../../models/training/folds.js';

describe('stratified k-fold', () => {
  it('assigns the folds scikit-learn assigns', () => {
    // Expected from scikit-learn 1.2.1 StratifiedKFold(3).split(X, y).
    const y = [1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0, 1];
    expect(Array.from(stratifiedKFold(y, 3))).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2]);
  });

  it('balances each class across folds in data order', () => {
    const y = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const folds = Array.from(stratifiedKFold(y, 5));
    expect(folds.slice(0, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(folds.slice(5)).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });
});
