// Walking the transaction chain: from the newest tid (x.serial) back through
// each transaction's previous-tid field. This is how incremental backups find
// what changed: never by scanning the tree or trusting mtimes.
import { CorruptRecordError, DsError } from "../errors.ts";
import { transactionName } from "./names.ts";
import { decodeTransaction, formatTid, ZERO_TID, type DecodedTransaction } from "./records.ts";
import { readDatabaseFile, type Storage } from "./home.ts";

export class ChainError extends DsError {}

/**
 * Transactions from `newestTid` back to (not including) `stopTid`, newest first.
 * Throws if the chain ends or skips past `stopTid` without reaching it.
 */
export function* walkTransactions(storage: Storage, newestTid: string, stopTid: string): Generator<DecodedTransaction> {
  let tid = newestTid;
  while (tid !== stopTid) {
    if (tid === ZERO_TID || tid < stopTid) {
      throw new ChainError(
        `Transaction chain from ${newestTid} does not reach the reference transaction ${stopTid} (${formatTid(stopTid)}): ` +
          `it ${tid === ZERO_TID ? "ends" : `skips to ${tid}`}; the storage history is not what the index says`,
      );
    }
    const name = transactionName(tid);
    const path = storage.pathOf(name);
    const record = decodeTransaction(readDatabaseFile(storage, name), path);
    if (record.tid !== tid) throw new CorruptRecordError(path, 8, `holds tid ${record.tid}, expected ${tid}`);
    if (record.md5Valid === false) throw new CorruptRecordError(path, 32, "md5 does not match the content");
    if (record.previousTid !== ZERO_TID && record.previousTid >= tid) {
      throw new CorruptRecordError(path, 24, `previous tid ${record.previousTid} is not older than ${tid}`);
    }
    yield record;
    tid = record.previousTid;
  }
}
