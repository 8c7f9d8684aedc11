/** Errors of the keeper processes; one class per failure mode. */

/** Base class of keeper errors. */
export class KeeperError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The process configuration (environment) is missing or malformed. */
export class KeeperConfigError extends KeeperError {}

/** Index input data failed validation; the reporter refuses to sign it. */
export class IndexDataError extends KeeperError {}

/** A data source could not be read (file missing, HTTP error, bad JSON). */
export class DataSourceError extends KeeperError {}
