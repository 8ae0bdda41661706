export * from './wal-reader.js';
