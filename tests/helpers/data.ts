// Where the labelled gym-review CSVs live (never copied into the project). Tests that need them read them from ../shared.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const DATA_DIR = resolve(process.env.GSG_DATA_DIR ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'gym-reviews'));
export const TRAIN_CSV = join(DATA_DIR, 'train.csv');
export const VAL_CSV = join(DATA_DIR, 'val.csv');
export const hasData = existsSync(VAL_CSV);
