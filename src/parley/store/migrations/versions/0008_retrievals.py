"""parley_retrievals: the documents a retrieval found and used, memos recalled and stored

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parley_retrievals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('chat_id', sa.String(length=32), nullable=False),
    sa.Column('agent', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('query', sa.Text(), nullable=True),
    sa.Column('collection', sa.Text(), nullable=True),
    sa.Column('results', sa.Text(), nullable=False),
    sa.Column('used', sa.Text(), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['parley_runs.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parley_retrievals', schema=None) as batch_op:
        batch_op.create_index('ix_parley_retrievals_run', ['run_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parley_retrievals', schema=None) as batch_op:
        batch_op.drop_index('ix_parley_retrievals_run')

    op.drop_table('parley_retrievals')
