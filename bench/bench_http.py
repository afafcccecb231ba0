async def signin(env): return []
async def refresh(env): return []
async def concurrent_me(env): return []
