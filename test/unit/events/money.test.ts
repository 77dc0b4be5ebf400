import { describe, expect, it } from 'vitest';
import { MoneyPrecisionError } from '#shared/errors.ts';
import { currencyExponent, money, sumMoney, toDecimalString, toMinorUnits } from '#shared/events/money.ts';

describe('money', () => {
  describe('currencyExponent', () => {
    it('follows ISO 4217 minor units', () => {
      expect(currencyExponent('USD')).toBe(2);
      expect(currencyExponent('JPY')).toBe(0);
      expect(currencyExponent('KWD')).toBe(3);
    });

    it('uses ISO minor units where cash digits differ (ICU says 0 for these)', () => {
      expect(currencyExponent('HUF')).toBe(2);
      expect(currencyExponent('IDR')).toBe(2);
      expect(currencyExponent('COP')).toBe(2);
      expect(currencyExponent('IQD')).toBe(3);
      expect(toMinorUnits('12.50', 'HUF')).toBe(1250);
      expect(toMinorUnits('1089.09', 'IDR')).toBe(108909);
      expect(toMinorUnits('1000.500', 'IQD')).toBe(1000500);
    });

    it('rejects a malformed or unknown code', () => {
      expect(() => currencyExponent('usd')).toThrow();
      expect(() => currencyExponent('XYZ')).toThrow(MoneyPrecisionError);
    });
  });

  describe('toMinorUnits', () => {
    it('converts decimal strings exactly, without floating point', () => {
      expect(toMinorUnits('414.95', 'USD')).toBe(41495);
      expect(toMinorUnits('0.10', 'USD')).toBe(10);
      expect(toMinorUnits('19.9', 'USD')).toBe(1990);
      expect(toMinorUnits('1000', 'JPY')).toBe(1000);
      expect(toMinorUnits('1.234', 'KWD')).toBe(1234);
      expect(toMinorUnits('-5.00', 'EUR')).toBe(-500);
    });

    it('accepts numbers that JavaScript cannot add exactly', () => {
      // 0.1 + 0.2 = 0.30000000000000004 in floating point; the hub never adds floats.
      expect(toMinorUnits(0.3, 'USD')).toBe(30);
      expect(toMinorUnits(89.99, 'USD')).toBe(8999);
    });

    it('accepts trailing zeros beyond the exponent but not significant digits', () => {
      expect(toMinorUnits('0.0', 'JPY')).toBe(0);
      expect(toMinorUnits('12.500', 'USD')).toBe(1250);
      expect(() => toMinorUnits('12.505', 'USD')).toThrow(MoneyPrecisionError);
      expect(() => toMinorUnits('1.5', 'JPY')).toThrow(MoneyPrecisionError);
    });

    it('rejects what is not a decimal', () => {
      expect(() => toMinorUnits('1e3', 'USD')).toThrow(MoneyPrecisionError);
      expect(() => toMinorUnits('', 'USD')).toThrow(MoneyPrecisionError);
      expect(() => toMinorUnits('12,50', 'USD')).toThrow(MoneyPrecisionError);
      expect(() => toMinorUnits(Number.NaN, 'USD')).toThrow(MoneyPrecisionError);
    });

    it('rejects amounts beyond the safe integer range', () => {
      expect(() => toMinorUnits('99999999999999999.99', 'USD')).toThrow(MoneyPrecisionError);
    });
  });

  describe('toDecimalString', () => {
    it('round-trips minor units', () => {
      expect(toDecimalString(money('414.95', 'USD'))).toBe('414.95');
      expect(toDecimalString({ amount: 5, currency: 'USD' })).toBe('0.05');
      expect(toDecimalString({ amount: -1250, currency: 'USD' })).toBe('-12.50');
      expect(toDecimalString({ amount: 1000, currency: 'JPY' })).toBe('1000');
      expect(toDecimalString({ amount: 1234, currency: 'KWD' })).toBe('1.234');
    });
  });

  describe('sumMoney', () => {
    it('adds amounts of one currency', () => {
      expect(sumMoney([money('0.10', 'USD'), money('0.20', 'USD')], 'USD')).toEqual({
        amount: 30,
        currency: 'USD',
      });
      expect(sumMoney([], 'USD')).toEqual({ amount: 0, currency: 'USD' });
    });

    it('refuses to mix currencies', () => {
      expect(() => sumMoney([money('1', 'USD'), money('1', 'EUR')], 'USD')).toThrow(MoneyPrecisionError);
    });
  });
});
