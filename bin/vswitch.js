#!/usr/bin/env node
// The installed `vswitch` command: runs the compiled CLI (npm run build makes dist/).
import '../dist/api/cli/main.js';
