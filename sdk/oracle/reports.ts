/**
 * EIP-712 reports of the IndexOracle: the typed-data definition, signing and verification.
 * Reporters sign `Report`; the transmitter submits `SignedReport`s (the report, the domain it was
 * signed for, and the signature split into v, r, s).
 */
import { Signature, TypedDataEncoder, encodeBytes32String, verifyTypedData } from "ethers";
import type { TypedDataDomain, TypedDataField } from "ethers";
import { ReportSignatureError } from "../errors";

/** EIP-712 domain name and version of the IndexOracle. */
export const ORACLE_DOMAIN_NAME = "Tokenpit IndexOracle";
export const ORACLE_DOMAIN_VERSION = "1";

/** The EIP-712 `Report` type, field for field as in IIndexOracle.Report. */
export const REPORT_TYPES: Record<string, TypedDataField[]> = {
  Report: [
    { name: "feedId", type: "bytes32" },
    { name: "priceX18", type: "uint256" },
    { name: "observedAt", type: "uint64" },
    { name: "methodologyVersion", type: "uint16" },
    { name: "sourceHash", type: "bytes32" },
  ],
};

/** What a reporter signs. */
export interface Report {
  feedId: string;
  priceX18: bigint;
  observedAt: bigint;
  methodologyVersion: number;
  sourceHash: string;
}

/** A report with its domain and signature, in the shape `IndexOracle.submit` takes. */
export interface SignedReport {
  report: Report;
  chainId: bigint;
  oracle: string;
  v: number;
  r: string;
  s: string;
}

/** Where a report is valid: one chain and one oracle contract. */
export interface OracleDomain {
  chainId: bigint;
  oracle: string;
}

/** Anything that signs EIP-712 typed data (an ethers Wallet or Signer). */
export interface TypedDataSigner {
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** The feed id of a symbol such as "AIT": its bytes32 encoding. */
export function feedIdOf(symbol: string): string {
  return encodeBytes32String(symbol);
}

/** The EIP-712 domain of an oracle. */
export function oracleTypedDataDomain(domain: OracleDomain): TypedDataDomain {
  return {
    name: ORACLE_DOMAIN_NAME,
    version: ORACLE_DOMAIN_VERSION,
    chainId: domain.chainId,
    verifyingContract: domain.oracle,
  };
}

/** The digest a reporter signs; equals `IndexOracle.reportDigest(report)` on that chain and contract. */
export function reportDigest(domain: OracleDomain, report: Report): string {
  return TypedDataEncoder.hash(oracleTypedDataDomain(domain), REPORT_TYPES, { ...report });
}

/** Signs a report for a domain and returns it ready for `submit`. */
export async function signReport(signer: TypedDataSigner, domain: OracleDomain, report: Report): Promise<SignedReport> {
  const signature = Signature.from(
    await signer.signTypedData(oracleTypedDataDomain(domain), REPORT_TYPES, { ...report }),
  );
  return { report, chainId: domain.chainId, oracle: domain.oracle, v: signature.v, r: signature.r, s: signature.s };
}

/** The address that signed a report (under the domain the report claims). */
export function recoverReportSigner(signed: SignedReport): string {
  const signature = Signature.from({ v: signed.v, r: signed.r, s: signed.s });
  return verifyTypedData(
    oracleTypedDataDomain({ chainId: signed.chainId, oracle: signed.oracle }),
    REPORT_TYPES,
    { ...signed.report },
    signature,
  );
}

/**
 * Checks that a signed report was signed by `expectedSigner`.
 * @throws ReportSignatureError when it was not.
 */
export function verifyReport(signed: SignedReport, expectedSigner: string): void {
  const recovered = recoverReportSigner(signed);
  if (recovered.toLowerCase() !== expectedSigner.toLowerCase()) {
    throw new ReportSignatureError(`report signed by ${recovered}, expected ${expectedSigner}`);
  }
}
