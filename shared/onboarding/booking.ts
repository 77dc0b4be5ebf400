import * as z from 'zod';
import type { NetSuiteMappingConfig } from '../connectors/netsuite/mapper.ts';
import { type NetSuiteRequester, suiteQlAll } from './sources.ts';

/**
 * The booking config's own ids (`NetSuiteMappingConfig`: customers, currencies, subsidiary, SuiteTax tax
 * type and code) against what the ERP has. NetSuite refuses a transaction naming an id it does not have
 * (400 `INVALID_KEY_OR_REF`), so a wrong id in an environment's config would otherwise first show up as
 * parked orders: `sync-mappings` names each one before any order uses it. Items and the online location
 * are checked with the item master and locations (`checkConfig` in ./mappings.ts).
 */

/** Active ids of the record types the booking config references. */
export interface ErpBookingRefs {
  readonly customers: ReadonlySet<string>;
  readonly currencies: ReadonlySet<string>;
  readonly subsidiaries: ReadonlySet<string>;
  readonly taxTypes: ReadonlySet<string>;
  readonly taxCodes: ReadonlySet<string>;
}

/** The booking settings checked here (a config may leave out what its account does not use). */
export type BookingConfig = Partial<
  Pick<NetSuiteMappingConfig, 'customers' | 'currencies' | 'tax' | 'subsidiaryId'>
>;

const Id = z.object({ id: z.union([z.string(), z.number()]).transform(String) });

/** Reads the active customers the config may name, currencies, subsidiaries, tax types and tax codes. */
export async function fetchErpBookingRefs(
  client: NetSuiteRequester,
  config: BookingConfig,
): Promise<ErpBookingRefs> {
  const ids = async (table: string, only?: readonly string[]) => {
    // Customers are many: only the ones the config names are asked for.
    const where = only ? ` AND id IN (${only.filter((id) => /^\d+$/.test(id)).join(', ') || '-1'})` : '';
    const rows = await suiteQlAll(client, `SELECT id FROM ${table} WHERE isinactive = 'F'${where}`, Id);
    return new Set(rows.map((row) => row.id));
  };
  const customerIds = Object.values(config.customers ?? {});
  const [customers, currencies, subsidiaries, taxTypes, taxCodes] = await Promise.all([
    ids('customer', customerIds),
    ids('currency'),
    config.subsidiaryId !== undefined ? ids('subsidiary') : new Set<string>(),
    config.tax ? ids('taxtype') : new Set<string>(),
    config.tax ? ids('salestaxitem') : new Set<string>(),
  ]);
  return { customers, currencies, subsidiaries, taxTypes, taxCodes };
}

/** Each booking id the ERP does not have, by its path in the config. */
export function checkBookingConfig(config: BookingConfig, erp: ErpBookingRefs): string[] {
  const problems: string[] = [];
  const check = (path: string, id: string, ids: ReadonlySet<string>, what: string) => {
    if (!ids.has(id)) problems.push(`${path} = ${JSON.stringify(id)} is not an ERP ${what} id`);
  };
  for (const [channel, id] of Object.entries(config.customers ?? {}))
    check(`customers.${channel}`, id, erp.customers, 'customer');
  for (const [code, id] of Object.entries(config.currencies ?? {}))
    check(`currencies.${code}`, id, erp.currencies, 'currency');
  if (config.subsidiaryId !== undefined)
    check('subsidiaryId', config.subsidiaryId, erp.subsidiaries, 'subsidiary');
  if (config.tax) {
    check('tax.typeId', config.tax.typeId, erp.taxTypes, 'tax type');
    check('tax.codeId', config.tax.codeId, erp.taxCodes, 'tax code');
  }
  return problems;
}
