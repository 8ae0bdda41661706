export { loadConfig } from './config-loader.js';
