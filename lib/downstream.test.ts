import { asFieldInput } from './downstream';
import { CalleeRefusal, ServiceUnavailableError } from './internal-client';

describe('asFieldInput', () => {
  it('answers what the callee answered', async () => {
    await expect(asFieldInput(Promise.resolve({ id: 'p1' }), 'productId: no such product')).resolves.toEqual({
      id: 'p1',
    });
  });

  it("turns the callee's NOT_FOUND into BAD_USER_INPUT on the field", async () => {
    const refused = asFieldInput(
      Promise.reject(new CalleeRefusal('NOT_FOUND', 'No variant with this id', 404)),
      'items.0.variantId: no such variant',
    );
    await expect(refused).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'items.0.variantId: no such variant',
    });
  });

  it('passes any other refusal and a callee without an answer through unchanged', async () => {
    const conflict = new CalleeRefusal('CONFLICT', 'Not enough stock', 409);
    await expect(asFieldInput(Promise.reject(conflict), 'variantId: no such variant')).rejects.toBe(conflict);
    const down = new ServiceUnavailableError('product', '/api/products/id/p1', new Error('ECONNREFUSED'));
    await expect(asFieldInput(Promise.reject(down), 'productId: no such product')).rejects.toBe(down);
  });
});
