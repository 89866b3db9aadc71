import { describeFuzzShard } from '../helpers/fuzz-suite';

// Issue 13 deliverable 5, half of the mutation routes (the other half: fuzz-2); see test/helpers/fuzz-routes.ts.
describeFuzzShard(0, 2);
