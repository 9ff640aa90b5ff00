// Types of standalone-validators.mjs, for the kernel's test that reads the first-party adapters as the build does.
import type { AdapterDescriptor, AdapterSlot } from '@gitops-reverser/contract';

export function standaloneModule(schema: Readonly<Record<string, unknown>>, options: Readonly<Record<string, unknown>>, vocabulary?: readonly string[]): string;
export function latin1(text: string): string;
export function firstPartyDescriptors(): Promise<AdapterDescriptor<AdapterSlot>[]>;
