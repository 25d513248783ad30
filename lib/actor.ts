// Who did something (registry pushes, alias moves, rollouts): $USER, else the OS account name.
import { userInfo } from 'node:os';

export function defaultActor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.USER) return env.USER;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
