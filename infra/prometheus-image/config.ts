// Prometheus configuration: the compose stack's prometheus/prometheus.yml (the one source) and the process-mode
// variant derived from it for `gsg up` on this machine and the test harness: the platform scraped at 127.0.0.1,
// model servers discovered from a local targets directory, the project's rules by absolute path.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { BadInputError } from '../../lib/errors.js';
import { projectRoot } from '../../lib/paths.js';
import { formatZodError } from '../../lib/zod-errors.js';
import { HostPort, MODEL_SERVER_JOB } from './file-sd.js';

export const PLATFORM_JOB = 'platform';

export const prometheusDir = (): string => join(projectRoot(), 'prometheus');
export const composeConfigPath = (): string => join(prometheusDir(), 'prometheus.yml');
export const rulesDir = (): string => join(prometheusDir(), 'rules');

const PromDuration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'expected a Prometheus duration such as 1s or 5m');

const ScrapeConfig = z.looseObject({
  job_name: z.string(),
  static_configs: z.array(z.looseObject({ targets: z.array(z.string()) })).optional(),
  file_sd_configs: z.array(z.looseObject({ files: z.array(z.string()) })).optional(),
});
const PrometheusConfig = z.looseObject({
  global: z.looseObject({ scrape_interval: PromDuration.optional(), evaluation_interval: PromDuration.optional() }).optional(),
  rule_files: z.array(z.string()),
  scrape_configs: z.array(ScrapeConfig),
});
export type PrometheusConfig = z.infer<typeof PrometheusConfig>;

export const ProcessConfigOptions = z.object({
  /** host:port of the platform process(es) serving /metrics (router + platform metrics), e.g. 127.0.0.1:8080. */
  platformTargets: z.array(HostPort).min(1),
  /** Absolute directory holding the file-SD targets.json of the model servers. */
  targetsDir: z.string().refine(isAbsolute, 'expected an absolute path'),
  /** Absolute directory of the rule files (default: the project's prometheus/rules). */
  rulesDir: z.string().refine(isAbsolute, 'expected an absolute path').optional(),
  /** Override the compose file's scrape and evaluation intervals (the tests use 1s). */
  scrapeInterval: PromDuration.optional(),
  evaluationInterval: PromDuration.optional(),
});
export type ProcessConfigOptions = z.input<typeof ProcessConfigOptions>;

/** The compose stack's configuration, parsed and checked for the two jobs the platform relies on. */
export function loadComposeConfig(file = composeConfigPath()): PrometheusConfig {
  const parsed = PrometheusConfig.safeParse(parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new BadInputError(`${file}: ${formatZodError(parsed.error)}`, { file });
  const config = parsed.data;
  job(config, PLATFORM_JOB, file);
  job(config, MODEL_SERVER_JOB, file);
  return config;
}

function job(config: PrometheusConfig, name: string, file: string) {
  const found = config.scrape_configs.find((s) => s.job_name === name);
  if (!found) throw new BadInputError(`${file}: no scrape job "${name}"`, { file });
  return found;
}

/** The process-mode configuration as YAML: everything as in prometheus.yml except targets, paths and (optionally) intervals. */
export function renderProcessConfig(options: ProcessConfigOptions, composeFile = composeConfigPath()): string {
  const parsed = ProcessConfigOptions.safeParse(options);
  if (!parsed.success) throw new BadInputError(formatZodError(parsed.error));
  const opts = parsed.data;
  const config = loadComposeConfig(composeFile);
  config.global = {
    ...config.global,
    ...(opts.scrapeInterval ? { scrape_interval: opts.scrapeInterval, scrape_timeout: opts.scrapeInterval } : {}),
    ...(opts.evaluationInterval ? { evaluation_interval: opts.evaluationInterval } : {}),
  };
  config.rule_files = [join(opts.rulesDir ?? rulesDir(), '*.yml')];
  job(config, PLATFORM_JOB, composeFile).static_configs = [{ targets: opts.platformTargets }];
  const servers = job(config, MODEL_SERVER_JOB, composeFile);
  servers.file_sd_configs = [{ ...servers.file_sd_configs?.[0], files: [join(opts.targetsDir, '*.json')] }];
  return `# Generated from ${composeFile} for process mode (gsg up on this machine).\n${stringify(config)}`;
}
