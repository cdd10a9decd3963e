// n8n-core writes <N8N_USER_FOLDER>/.n8n/config on first use; keep that out of $HOME and the repo.
const os = require('os');
const path = require('path');
process.env.N8N_USER_FOLDER =
	process.env.N8N_USER_FOLDER || path.join(os.tmpdir(), 'n8n-nodes-kling-o1-test');
