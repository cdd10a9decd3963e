const fs = require('fs');
const os = require('os');
const path = require('path');

module.exports = async () => {
	const folder = process.env.N8N_USER_FOLDER || path.join(os.tmpdir(), 'n8n-nodes-kling-o1-test');
	fs.mkdirSync(path.join(folder, '.n8n'), { recursive: true });
};
