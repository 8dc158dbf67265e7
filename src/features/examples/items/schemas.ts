import { Type, type Static } from 'typebox';

export const ItemOut = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    owner_id: Type.String({ format: 'uuid' }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type ItemOut = Static<typeof ItemOut>;

export const NewItem = Type.Object(
  { title: Type.String({ minLength: 1, maxLength: 200 }), description: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false },
);
export const ItemPatch = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const ItemList = Type.Object({ items: Type.Array(ItemOut), next_cursor: Type.Union([Type.String(), Type.Null()]) });
