// Test harness shared by every package's specs. Never imported from production code (lint rule).
export {
  describeInfra,
  isInfraRequired,
  planInfra,
  reachSync,
  InfraUnavailableError,
  type DescribeInfraOptions,
  type InfraPlan,
  type PlanInfraOptions,
  type ReachResult,
} from './infra';
export {
  probeMysql,
  probeRedis,
  probeRocketMq,
  parseHostPorts,
  tcpConnect,
  type InfraProbe,
  type MysqlProbe,
  type RedisProbe,
  type RocketMqProbe,
  type TcpEndpoint,
} from './probes';
export { uniqueName } from './names';
export { freePort, waitFor, type WaitForOptions } from './net';
export { startMqim, type MqimProcess, type StartMqimOptions } from './mqim-process';
export {
  runMqim,
  startCluster,
  type ClusterApi,
  type ClusterGate,
  type ClusterOptions,
  type MqimCluster,
  type MqimRun,
} from './cluster';
export { RawClient } from './raw.client';
export { startModerationHook, type HookCall, type ModerationHook } from './moderation-hook';
export { runGroupRolesScenario, type GroupRolesTarget } from './group-roles.scenario';
export { runVoipScenario, type Endpoint, type VoipScenarioOptions } from './voip.scenario';
export { runLegacyScenario, type LegacyScenarioOptions } from './legacy.scenario';
export { recordSocialEvents, type SocialEvents } from './social.events';
export { runFlutterHttpScenario, type FlutterHttpOptions } from './flutter-http.scenario';
export { startOwnRocketMq, type OwnRocketMq } from './own-rocketmq';
