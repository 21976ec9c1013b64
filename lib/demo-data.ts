/**
 * Demo data shared by the seeds of several subgraphs. Fixed ids make seeding idempotent and let each
 * subgraph seed its own tables while still pointing at the same factories, owners and products.
 */
export const DEMO_OWNERS = [
  { id: '01930000-0000-7000-8000-000000000001', phone: '+6281100000001', name: 'Budi Santoso' },
  { id: '01930000-0000-7000-8000-000000000002', phone: '+6281100000002', name: 'Siti Rahayu' },
] as const;

export const DEMO_FACTORIES = [
  {
    id: '01930000-0000-7000-8000-0000000000f1',
    ownerId: DEMO_OWNERS[0].id,
    name: 'Konveksi Maju Jaya',
    city: 'Bandung',
    description: 'Garments and uniforms since 1998.',
  },
  {
    id: '01930000-0000-7000-8000-0000000000f2',
    ownerId: DEMO_OWNERS[1].id,
    name: 'Batik Sekar Arum',
    city: 'Solo',
    description: 'Hand-stamped batik.',
  },
  {
    id: '01930000-0000-7000-8000-0000000000f3',
    ownerId: DEMO_OWNERS[0].id,
    name: 'Keramik Nusantara',
    city: 'Purwakarta',
    description: 'Stoneware for cafes and homes.',
  },
] as const;

export const DEMO_CATEGORIES = [
  { id: '01930000-0000-7000-8000-0000000000c1', name: 'Apparel', parentId: null },
  { id: '01930000-0000-7000-8000-0000000000c2', name: 'T-shirts', parentId: '01930000-0000-7000-8000-0000000000c1' },
  { id: '01930000-0000-7000-8000-0000000000c3', name: 'Batik', parentId: '01930000-0000-7000-8000-0000000000c1' },
  { id: '01930000-0000-7000-8000-0000000000c4', name: 'Homeware', parentId: null },
] as const;

export const DEMO_PRODUCTS = [
  {
    id: '01930000-0000-7000-8000-0000000000a1',
    factoryId: DEMO_FACTORIES[0].id,
    categoryId: DEMO_CATEGORIES[1].id,
    name: 'Kaos Polos Cotton Combed 30s',
    description: 'Plain combed-cotton T-shirt.',
    basePrice: 45000,
    variants: [
      { id: '01930000-0000-7000-8000-0000000000b1', sku: 'KPC30-BLK-M', name: 'Black / M', price: 45000 },
      { id: '01930000-0000-7000-8000-0000000000b2', sku: 'KPC30-BLK-L', name: 'Black / L', price: 47000 },
      { id: '01930000-0000-7000-8000-0000000000b3', sku: 'KPC30-WHT-M', name: 'White / M', price: 45000 },
    ],
  },
  {
    id: '01930000-0000-7000-8000-0000000000a2',
    factoryId: DEMO_FACTORIES[1].id,
    categoryId: DEMO_CATEGORIES[2].id,
    name: 'Kemeja Batik Parang',
    description: 'Long-sleeved batik shirt, parang motif.',
    basePrice: 185000,
    variants: [
      { id: '01930000-0000-7000-8000-0000000000b4', sku: 'KBP-M', name: 'M', price: 185000 },
      { id: '01930000-0000-7000-8000-0000000000b5', sku: 'KBP-L', name: 'L', price: 195000 },
    ],
  },
  {
    id: '01930000-0000-7000-8000-0000000000a3',
    factoryId: DEMO_FACTORIES[2].id,
    categoryId: DEMO_CATEGORIES[3].id,
    name: 'Mug Stoneware 350ml',
    description: 'Glazed stoneware mug.',
    basePrice: 60000,
    variants: [
      { id: '01930000-0000-7000-8000-0000000000b6', sku: 'MUG350-SAGE', name: 'Sage', price: 60000 },
      { id: '01930000-0000-7000-8000-0000000000b7', sku: 'MUG350-SAND', name: 'Sand', price: 60000 },
    ],
  },
] as const;
