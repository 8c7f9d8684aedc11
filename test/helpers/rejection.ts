/** The error a promise rejects with; fails the test when it resolves. */
import { expect } from "chai";

export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(Error);
    return error as Error;
  }
  return expect.fail("expected the promise to reject");
}
