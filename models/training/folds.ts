// Stratified k-fold assignment with scikit-learn's StratifiedKFold(n_splits, shuffle=False) semantics, so the
// calibration folds are the ones scikit-learn would use for the same data order.

/** The test fold (0..k-1) of every sample. */
export function stratifiedKFold(labels: ArrayLike<number>, k: number): Int32Array {
  const n = labels.length;
  // Classes encoded by order of first appearance.
  const code = new Map<number, number>();
  const enc = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let c = code.get(labels[i]);
    if (c === undefined) code.set(labels[i], (c = code.size));
    enc[i] = c;
  }
  const nClasses = code.size;
  const counts = new Int32Array(nClasses);
  for (let i = 0; i < n; i++) counts[enc[i]]++;
  if (counts.every((c) => c < k)) throw new Error(`n_splits=${k} is greater than the number of members in each class`);
  // allocation[f][c]: how many samples of class c fold f gets (round robin over the sorted encoded labels).
  const sorted = Int32Array.from(enc).sort();
  const allocation = Array.from({ length: k }, () => new Int32Array(nClasses));
  for (let i = 0; i < n; i++) allocation[i % k]![sorted[i]]++;
  const folds = new Int32Array(n);
  for (let c = 0; c < nClasses; c++) {
    let f = 0;
    let left = allocation[0]![c];
    for (let i = 0; i < n; i++) {
      if (enc[i] !== c) continue;
      while (left === 0) left = allocation[++f]![c];
      folds[i] = f;
      left--;
    }
  }
  return folds;
}
