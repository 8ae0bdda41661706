import { applyAuditRules, type AuditedEvent, type RuleContext } from './audit-rule.js';
import type { AuditedSink } from './audited-sink.types.js';
import type { ChangeEvent } from './change-event.types.js';
import type { ChangeSink, TransactionEnd } from './change-source.types.js';
import { WalauditError } from './errors.js';

/** A transaction whose events were seen and whose end was not. */
interface OpenTransaction {
  xid: number;
  lsn: string;
  kept: number;
}

/**
 * A ChangeSink that applies the audit rules and passes on only the events they keep, with the
 * ends of only the transactions it kept events of: a transaction the rules dropped whole leaves no
 * trace downstream. `onDropped` counts the events dropped, once the write they came in resolved.
 */
export function withAuditRules(sink: AuditedSink, rules: RuleContext, onDropped?: (dropped: number) => void): ChangeSink {
  const open: OpenTransaction[] = [];

  const openFor = (event: ChangeEvent): OpenTransaction => {
    const last = open.at(-1);
    if (last && last.lsn === event.tx.lsn && last.xid === event.tx.xid) return last;
    const tx: OpenTransaction = { xid: event.tx.xid, lsn: event.tx.lsn, kept: 0 };
    open.push(tx);
    return tx;
  };

  return {
    // Even when the sink has no use for them: they release the transactions kept open here.
    wantsTransactionEnds: true,
    async write(events: ChangeEvent[], ends: readonly TransactionEnd[] = []) {
      if (rules.prepare) await rules.prepare(events);
      const kept: AuditedEvent[] = [];
      let dropped = 0;
      for (const event of events) {
        const tx = openFor(event);
        const audited = applyAuditRules(event, rules);
        if (!audited) {
          dropped++;
          continue;
        }
        tx.kept++;
        kept.push(audited);
      }
      const keptEnds: TransactionEnd[] = [];
      for (let i = 0; i < ends.length; i++) {
        const tx = open.shift();
        if (!tx) throw new WalauditError('INTERNAL', `the reader reported ${ends.length} transaction ends, the audit rules saw fewer transactions`);
        if (tx.kept > 0) keptEnds.push({ events: tx.kept });
      }
      await sink.write(kept, keptEnds);
      onDropped?.(dropped);
    },
  };
}
