/**
 * Every task of the project, registered by hardhat.config.ts. Each task file imports its implementation inside the
 * action, so Hardhat starts (and compiles) on a fresh clone before `typechain-types/` exists.
 */
import "./deploy";
import "./cli";
import "./demo";
import "./generateErrors";
import "./compileWarnings";
