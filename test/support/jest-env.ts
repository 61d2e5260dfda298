// The local toolchain is Node 20 (the Lambda runs Node 24); the SDK's warning about Node 20 support
// ending is known and would repeat in every test worker.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
