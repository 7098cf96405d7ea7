// encoder_mask_token_child.ts: run under MAE_CUDA_EMULATOR=1 by encoder_mask_token.test.ts: the
// parity fixture given as argument on cuda:0, every check printed as JSON.
import { runParity } from '../../src/parity/run.js';

const r = await runParity(process.argv[2]!, 'cuda');
process.stdout.write(JSON.stringify(r.checks));
