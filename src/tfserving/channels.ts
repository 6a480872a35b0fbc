// The gRPC channels to one or more TF Serving replicas.
//
// - "host:port": one channel.
// - several addresses (an array, or comma-separated): one channel each, used
//   in turn, skipping replicas whose channel is failing.
// - "dns:NAME:PORT" (or "dns:///NAME:PORT"): one channel whose resolver finds
//   every replica, balanced by grpc-js's round_robin policy, as for a
//   Kubernetes headless Service.
// - "ipv4:A:P,B:P" / "ipv6:[A]:P,[B]:P": gRPC's own static address lists, one
//   channel balanced by round_robin in the same way.
import * as grpc from '@grpc/grpc-js';
import { LookoutError } from '../util/errors.js';
import { tfServingProtos } from './protos.js';
import type { PredictionServiceClient } from './generated/tensorflow/serving/PredictionService.js';
import type { ModelServiceClient } from './generated/tensorflow/serving/ModelService.js';

export interface ChannelOptions {
  /** Largest answer accepted; gRPC's default of 4 MiB is too small for batched detector outputs. */
  maxReceiveBytes: number;
  credentials: grpc.ChannelCredentials;
}

export interface Replica {
  target: string;
  prediction: PredictionServiceClient;
  model: ModelServiceClient;
}

export class AddressError extends LookoutError {
  readonly code = 'MODEL_SERVER_ADDRESS_INVALID';
}

const BALANCED_SCHEMES = ['dns:', 'ipv4:', 'ipv6:'];

/** Whether grpc-js resolves this one target to many addresses and balances over them itself. */
export function isBalancedTarget(target: string): boolean {
  return BALANCED_SCHEMES.some((scheme) => target.startsWith(scheme));
}

/** Splits and checks the configured address(es) into gRPC targets. */
export function parseTargets(address: string | readonly string[]): string[] {
  const raw = typeof address === 'string' ? (isBalancedTarget(address.trim()) ? [address] : address.split(',')) : [...address];
  const list = raw.map((a) => a.trim()).filter((a) => a.length > 0);
  if (list.length === 0) throw new AddressError('no model-server address given');
  for (const target of list) {
    if (/\s/.test(target)) throw new AddressError(`address ${JSON.stringify(target)} contains whitespace`);
    if (isBalancedTarget(target)) {
      if (list.length > 1) throw new AddressError(`${target.split(':')[0]}: addresses name every replica themselves; give one alone, not with ${list.length - 1} other address(es)`);
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) throw new AddressError(`address ${JSON.stringify(target)}: use host:port or dns:NAME:PORT for gRPC`);
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):\d{1,5}$/.test(target) && !target.startsWith('unix:')) {
      throw new AddressError(`address ${JSON.stringify(target)} is not host:port`);
    }
  }
  return list;
}

function channelArgs(options: ChannelOptions, balanced: boolean): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': options.maxReceiveBytes,
    'grpc.max_send_message_length': -1,
    // Keepalive pings detect a connection that died without a reset (a
    // vanished host) during a long call. They are sent only while calls are in
    // flight: stock gRPC servers such as TF Serving answer pings on an idle
    // connection more often than every 5 minutes with GOAWAY (too_many_pings).
    // Between frames, a dead replica shows up as UNAVAILABLE or a deadline.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.keepalive_permit_without_calls': 0,
    ...(balanced ? { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) } : {}),
  };
}

export class ReplicaSet {
  readonly replicas: readonly Replica[];
  private next = 0;

  constructor(targets: readonly string[], options: ChannelOptions) {
    const protos = tfServingProtos();
    const PredictionService = protos.prediction.tensorflow.serving.PredictionService;
    const ModelService = protos.model.tensorflow.serving.ModelService;
    this.replicas = targets.map((target) => {
      const prediction = new PredictionService(target, options.credentials, channelArgs(options, isBalancedTarget(target)));
      // One channel per replica, shared by both services.
      const model = new ModelService(target, options.credentials, { channelOverride: prediction.getChannel() });
      return { target, prediction, model };
    });
  }

  /** The next replica in turn whose channel is not failing (or the next one, if all are). */
  pick(): Replica {
    const n = this.replicas.length;
    for (let i = 0; i < n; i++) {
      const replica = this.replicas[(this.next + i) % n];
      const state = replica.prediction.getChannel().getConnectivityState(false);
      if (state !== grpc.connectivityState.TRANSIENT_FAILURE) {
        this.next = (this.next + i + 1) % n;
        return replica;
      }
    }
    const replica = this.replicas[this.next];
    this.next = (this.next + 1) % n;
    return replica;
  }

  close(): void {
    for (const r of this.replicas) r.prediction.close();
  }
}
