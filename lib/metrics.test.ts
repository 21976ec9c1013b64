import { register } from 'prom-client';
import { bounded, graphqlErrors } from './metrics';
import { parseMetrics, sumOf } from '../test/support/metrics';

describe('metric labels stay bounded', () => {
  it('keeps the first 200 names of a kind, then counts the rest as other', () => {
    const names = Array.from({ length: 250 }, (_, i) => `Operation${i}`);
    const labels = names.map((name) => bounded('test-operation', name));
    expect(labels.slice(0, 200)).toEqual(names.slice(0, 200));
    expect(new Set(labels.slice(200))).toEqual(new Set(['other']));
    // A name seen before keeps its own label; another kind has its own budget.
    expect(bounded('test-operation', 'Operation7')).toBe('Operation7');
    expect(bounded('test-other-kind', 'Operation249')).toBe('Operation249');
  });

  it('names what has no name, and refuses what is not a GraphQL name', () => {
    expect(bounded('operation', undefined)).toBe('anonymous');
    expect(bounded('code', '')).toBe('none');
    expect(bounded('test-names', 'order-9f2c/../x')).toBe('other');
    expect(bounded('test-names', 'x'.repeat(101))).toBe('other');
  });

  it('serves what it counts as Prometheus text that the test helper reads back', async () => {
    graphqlErrors.inc({ operation: 'PlaceOrder', code: 'CONFLICT' }, 2);
    graphqlErrors.inc({ operation: 'PlaceOrder', code: 'BAD_USER_INPUT' });
    const samples = parseMetrics(await register.metrics());
    expect(sumOf(samples, 'graphql_errors_total', { operation: 'PlaceOrder' })).toBe(3);
    expect(sumOf(samples, 'graphql_errors_total', { code: 'CONFLICT' })).toBe(2);
    expect(sumOf(samples, 'graphql_errors_total', { code: 'FORBIDDEN' })).toBe(0);
  });
});
