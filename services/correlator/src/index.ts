export * from './correlator.js';
