// What the integration global setup hands to every test file through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the one local Postgres started for the whole integration run. */
    pgUrl: string;
  }
}

export {};
