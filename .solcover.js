// solidity-coverage: test-only harnesses are not measured.
module.exports = { skipFiles: ["mocks/"] };
