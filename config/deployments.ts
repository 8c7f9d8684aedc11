/**
 * Where deployment files live and how they are read and written: `deployments/<network>.json` (format in
 * sdk/deployment.ts) and the deploy journal beside it, `deployments/<network>.journal.json`.
 */
import fs from "node:fs";
import path from "node:path";
import { DeploymentFileError, parseDeployment } from "../sdk/deployment";
import type { Deployment } from "../sdk/deployment";

/** The folder of deployment files, relative to the project root. */
export const DEPLOYMENTS_DIR = "deployments";

/** `deployments/<network>.json` under `root`. */
export function deploymentPath(root: string, network: string): string {
  return path.join(root, DEPLOYMENTS_DIR, `${network}.json`);
}

/** The deploy journal beside a deployment file: `x.json` -> `x.journal.json`. */
export function journalPathOf(deploymentFile: string): string {
  return deploymentFile.replace(/(\.json)?$/, ".journal.json");
}

/**
 * Reads and validates a deployment file.
 * @throws DeploymentFileError when it is missing ("run npm run deploy first"), not JSON, or malformed.
 */
export function readDeployment(file: string): Deployment {
  if (!fs.existsSync(file)) {
    throw new DeploymentFileError(`no deployment file at ${file}: deploy first (npm run deploy -- --network <name>)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new DeploymentFileError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  return parseDeployment(json, file);
}

/** Writes a deployment file (validated first), creating its folder; the write replaces the file atomically. */
export function writeDeployment(file: string, deployment: Deployment): void {
  parseDeployment(deployment, file);
  writeJsonAtomically(file, deployment);
}

/** Writes `value` as JSON to a temporary file beside `file`, then renames it over `file`. */
export function writeJsonAtomically(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(temporary, file);
}
