// Not published (package.json has no "main"): n8n loads the files its "n8n" section names.
// This lets a script or a REPL in the repo `require('.')` the built node and credential.
module.exports = {
	nodes: [require('./dist/nodes/KlingO1/KlingO1.node.js')],
	credentials: [require('./dist/credentials/EachlabsApi.credentials.js')],
};
