#!/usr/bin/env node
// `messaging-cli`: the original messaging CLI's name, for scripts that ran
// `python -m src.services.messaging_cli …`. The same as `swarm legacy …` (README, "Scripts written
// for the original CLI"), run by bin/swarm.cjs, the one launcher.
'use strict';
process.argv.splice(2, 0, 'legacy');
require('./swarm.cjs');
