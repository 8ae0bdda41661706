// @confluentinc/kafka-javascript is an optional dependency (see src/reader-publisher.ts). Where npm
// ci could not build it, the package and its types are absent, and tsconfig.json's `paths` falls
// back to this file, so the build still succeeds; the reader never loads the module then. Where
// the package is installed, its own types are used.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const binding: any;
export default binding;
export type LibrdKafkaError = Error & { code: number; isFatal?: boolean };
export type ProducerGlobalConfig = Record<string, string | number | boolean | undefined>;
export type MessageHeader = Record<string, string | Buffer>;
