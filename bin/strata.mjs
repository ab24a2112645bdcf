#!/usr/bin/env node
// Runs the TypeScript CLI through tsx (Strata ships its TypeScript sources).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/main.ts');
