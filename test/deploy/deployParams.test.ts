/** Deployment parameters of public networks from DEPLOY_* variables (config/deploy.ts). */
import { expect } from "chai";
import { Wallet } from "ethers";
import { EnvConfigError } from "../../config/env";
import { DEPLOY_DEFAULTS, publicDeployParams } from "../../config/deploy";

const [a, b, c, d] = Array.from({ length: 4 }, () => Wallet.createRandom().address);
const COMPLETE = {
  DEPLOY_GOVERNORS: `${a}, ${b}`,
  DEPLOY_GUARDIAN: c,
  DEPLOY_REPORTERS: `${a},${b},${c},${d}`,
  DEPLOY_QUORUM: "3",
  DEPLOY_COLLATERAL: "mock",
};

describe("publicDeployParams", function () {
  it("reads a complete set, with defaults for the optional variables", function () {
    const params = publicDeployParams(COMPLETE);
    expect(params).to.deep.include({ governors: [a, b], guardian: c, reporters: [a, b, c, d], quorum: 3 });
    expect(params.collateral).to.equal(undefined);
    expect(params.timelockDelaySec).to.equal(DEPLOY_DEFAULTS.timelockDelaySec);
    expect(publicDeployParams({ ...COMPLETE, DEPLOY_COLLATERAL: a, DEPLOY_MONTHS: "2" })).to.deep.include({
      collateral: a,
      months: 2,
    });
  });

  it("treats an empty variable (NAME= in .env) as unset", function () {
    expect(publicDeployParams({ ...COMPLETE, DEPLOY_MONTHS: "", DEPLOY_TIMELOCK_DELAY_SEC: " " }).months).to.equal(
      DEPLOY_DEFAULTS.months,
    );
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_GUARDIAN: "" })).to.throw(
      EnvConfigError,
      /^DEPLOY_GUARDIAN is required/,
    );
  });

  for (const name of Object.keys(COMPLETE)) {
    it(`names ${name} when it is missing`, function () {
      const env: Record<string, string> = { ...COMPLETE };
      delete env[name];
      expect(() => publicDeployParams(env)).to.throw(EnvConfigError, new RegExp(`^${name} is required`));
    });
  }

  it("names a malformed address, number or list", function () {
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_GUARDIAN: "0x1234" })).to.throw(
      EnvConfigError,
      /^DEPLOY_GUARDIAN must be a 20-byte hex address/,
    );
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_REPORTERS: `${a},nope` })).to.throw(
      EnvConfigError,
      /^DEPLOY_REPORTERS must be a 20-byte hex address/,
    );
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_QUORUM: "two" })).to.throw(
      EnvConfigError,
      /^DEPLOY_QUORUM must be a whole number/,
    );
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_TIMELOCK_DELAY_SEC: "99999999" })).to.throw(
      EnvConfigError,
      /^DEPLOY_TIMELOCK_DELAY_SEC/,
    );
  });

  it("refuses a quorum below 3, above the reporter count or not above half of it, and a reporter listed twice", function () {
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_QUORUM: "5" })).to.throw(
      EnvConfigError,
      "DEPLOY_QUORUM 5 is above the 4 reporters of DEPLOY_REPORTERS",
    );
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_QUORUM: "2" })).to.throw(EnvConfigError, /^DEPLOY_QUORUM/);
    const six = Array.from({ length: 6 }, () => Wallet.createRandom().address).join(",");
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_REPORTERS: six, DEPLOY_QUORUM: "3" })).to.throw(
      EnvConfigError,
      "DEPLOY_QUORUM 3 must be more than half of the 6 reporters (the oracle refuses it)",
    );
    expect(() => publicDeployParams({ ...COMPLETE, DEPLOY_REPORTERS: `${a},${a},${b}`, DEPLOY_QUORUM: "3" })).to.throw(
      EnvConfigError,
      "DEPLOY_REPORTERS lists an address twice",
    );
  });
});
