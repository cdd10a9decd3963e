// n8n finds the node and credential through the "n8n" section of package.json; this entry point
// only lets `require('n8n-nodes-kling-o1')` name them too.
module.exports = {
	nodes: [require('./dist/nodes/KlingO1/KlingO1.node.js')],
	credentials: [require('./dist/credentials/EachlabsApi.credentials.js')],
};
